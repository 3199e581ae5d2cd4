/*
** grow.c: the engine's arrays that grow, with the sizes they grow to counted
** without wrapping (a size past SIZE_MAX is refused, never allocated short).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"


size_t nm_grow_cap(size_t cap, size_t first, size_t have, size_t more, size_t size)
{
  size_t limit = SIZE_MAX / (size ? size : 1);
  if (more > SIZE_MAX - have || have + more > limit) return 0;
  size_t need = have + more, next = cap ? cap : first ? first : 1;
  while (next < need) next = next > limit / 2 ? need : 2 * next;
  return next;
}


void *nm_grow(void *arr_ptr, size_t *n, size_t size)
{
  void **arr = arr_ptr;
  if (nm_grow_cap(*n, 1, *n, 1, size) == 0) return NULL;
  char *grown = realloc(*arr, (*n + 1) * size);
  if (!grown) return NULL;
  *arr = grown;
  memset(grown + *n * size, 0, size);
  return grown + (*n)++ * size;
}
