/*
** test_grow.c: the capacities the engine's growing arrays take (grow.c
** nm_grow_cap): doubled until what they must hold fits, never wrapped past
** SIZE_MAX (a size that cannot be counted is refused with 0).
*/
#include <stdint.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "test_main.h"


static void test_doubling(void)
{
  CHECK(nm_grow_cap(0, 256, 0, 300, 8) == 512, "a new array starts at its first size, doubled "
        "until 300 fit (%zu)", nm_grow_cap(0, 256, 0, 300, 8));
  CHECK(nm_grow_cap(256, 256, 200, 56, 8) == 256, "an array whose capacity holds them keeps it");
  CHECK(nm_grow_cap(256, 64, 256, 1, 8) == 512, "a full one doubles");
  CHECK(nm_grow_cap(0, 0, 0, 1, 1) == 1, "no first size: one element");
}


static void test_past_size_max(void)
{
  size_t half = SIZE_MAX / 2 + 1;
  size_t cap = nm_grow_cap(half, 64, half, 1, 1);
  CHECK(cap == half + 1, "a capacity of SIZE_MAX/2+1 bytes that must hold one more grows to "
        "just that, not to twice it wrapped to 0 (%zu)", cap);
  CHECK(nm_grow_cap(half, 64, half, 1, 8) == 0, "the same capacity of doubles cannot be counted "
        "in bytes: refused");
  CHECK(nm_grow_cap(256, 256, 3, SIZE_MAX - 1, 1) == 0, "3 + SIZE_MAX - 1 elements wrap: refused");
  CHECK(nm_grow_cap(256, 256, 0, SIZE_MAX / 16 + 1, 16) == 0, "SIZE_MAX/16 + 1 elements of 16 "
        "bytes: refused");
  size_t elements = SIZE_MAX / 16;
  CHECK(nm_grow_cap(256, 256, 0, elements, 16) == elements, "SIZE_MAX/16 of them fit: that many");
}


static void test_grow_one(void)
{
  size_t n = SIZE_MAX / 8, before = n;
  double *arr = NULL;
  CHECK(nm_grow(&arr, &n, 8) == NULL && n == before && arr == NULL,
        "nm_grow of an array of SIZE_MAX/8 doubles is refused, the array and its count kept");
}


int main(void)
{
  test_doubling();
  test_past_size_max();
  test_grow_one();
  return test_summary();
}
