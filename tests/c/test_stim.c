/*
** test_stim.c: the stimulus engine (stim.c) without Lua: the sample count of
** a request, rendering in chunks of any size gives the bits of one render,
** sample-by-sample access agrees with rendering, concatenation segments
** round up and the last one runs on, seeds give independent reproducible
** streams, and every refused tree names the offending node and the reason.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/nm.h"
#include "test_main.h"


static nm_stim *make(const nm_stim_node *nodes, size_t n, double D, double dt)
{
  nm_error err;
  nm_stim *s = nm_stim_new(nodes, n, D, dt, &err);
  CHECK(s && err.status == NM_OK, "stim: a valid tree compiles (status %d: %s)", err.status, err.why);
  return s;
}


static void test_length(void)
{
  CHECK(nm_stim_length(1000, 0.1) == 10000, "stim: 1000 ms at 0.1 ms is 10000 samples");
  CHECK(nm_stim_length(0.3, 0.1) == 3, "stim: 0.3 ms at 0.1 ms is 3 samples (neurolib: 4)");
  CHECK(nm_stim_length(1.11, 0.01) == 111, "stim: 1.11 ms at 0.01 ms is 111 samples (neurolib: 112)");
  CHECK(nm_stim_length(10.05, 0.1) == 101, "stim: a duration between grid points rounds up");
  CHECK(nm_stim_length(-1, 0.1) == 0 && nm_stim_length(1, 0) == 0, "stim: no samples for bad requests");
  CHECK(nm_stim_length(1e300, 0.1) == 0 && nm_stim_length(INFINITY, 1) == 0 && nm_stim_length(1, 1e-320) == 0,
        "stim: no count past 2^53 samples (it is not converted)");
  CHECK(nm_stim_length(9007199254740992.0, 1) == ((size_t)1 << 53), "stim: 2^53 samples are countable");
}


/* An OU process plus a sinusoid, two channels, seeded. */
static const nm_stim_node ou_sin[] = {
  { .kind = NM_STIM_SUM, .n_children = 2 },
  { .kind = NM_STIM_OU, .channels = 2, .p = { 0.3, 0.2, 5.0 }, .seed = 42, .key = 0 },
  { .kind = NM_STIM_SIN, .channels = 2, .p = { 1.5, 7.0 } },
};


static void test_chunks(void)
{
  size_t N = 5000;
  double *whole = malloc(2 * N * sizeof *whole), *part = malloc(2 * N * sizeof *part);
  double *piece = malloc(2 * 777 * sizeof *piece);
  nm_stim *a = make(ou_sin, 3, 500, 0.1), *b = make(ou_sin, 3, 500, 0.1), *c = make(ou_sin, 3, 500, 0.1);
  nm_stim_render(a, whole, N);
  for (size_t done = 0; done < N;) {
    size_t m = N - done < 777 ? N - done : 777;
    nm_stim_render(b, piece, m);
    for (int ch = 0; ch < 2; ch++) memcpy(part + ch * N + done, piece + ch * m, m * sizeof *piece);
    done += m;
  }
  CHECK(memcmp(whole, part, 2 * N * sizeof *whole) == 0, "stim: chunks of 777 give the bits of one render");
  int same = 1;
  double v[2];
  for (size_t k = 0; k < N; k += 3) {
    nm_stim_sample(c, k, v);
    if (v[0] != whole[k] || v[1] != whole[N + k]) same = 0;
  }
  CHECK(same, "stim: sample-by-sample access agrees with rendering");
  CHECK(nm_stim_sample(c, 0, v) == NM_EINVAL, "stim: a sample already passed is refused");
  CHECK(whole[0] != whole[N], "stim: the two channels of a process differ");
  nm_stim_free(a);
  nm_stim_free(b);
  nm_stim_free(c);
  free(whole);
  free(part);
  free(piece);
}


static void test_concat(void)
{
  double r[] = { 1, 1, 1 };
  nm_stim_node nodes[] = {
    { .kind = NM_STIM_CONCAT, .n_children = 3, .ratios = r },
    { .kind = NM_STIM_STEP, .channels = 1, .p = { 1 } },
    { .kind = NM_STIM_STEP, .channels = 1, .p = { 2 } },
    { .kind = NM_STIM_STEP, .channels = 1, .p = { 3 } },
  };
  nm_stim *s = make(nodes, 4, 100, 0.1);
  double out[1200];
  nm_stim_render(s, out, 1200);
  int n[4] = { 0, 0, 0, 0 };
  for (int k = 0; k < 1000; k++) n[(int)out[k]]++;
  CHECK(n[1] == 334 && n[2] == 334 && n[3] == 332, "stim: thirds of 100 ms are 334/334/332 samples");
  int last = 1;
  for (int k = 1000; k < 1200; k++) if (out[k] != 3) last = 0;
  CHECK(last, "stim: past the request, the last segment runs on");
  nm_stim_free(s);
}


static void test_seeds(void)
{
  CHECK(nm_stim_stream_seed(1, 0, 0) != nm_stim_stream_seed(1, 0, 1), "stim: channels get different streams");
  CHECK(nm_stim_stream_seed(1, 0, 0) != nm_stim_stream_seed(2, 0, 0), "stim: seeds give different streams");
  CHECK(nm_stim_stream_seed(1, 5, 0) != nm_stim_stream_seed(1, 6, 0), "stim: keys give different streams");
  CHECK(nm_stim_stream_seed(7, 3, 2) == nm_stim_stream_seed(7, 3, 2), "stim: a stream seed is reproducible");
}


static void refused(const nm_stim_node *nodes, size_t n, double D, double dt, long node, int why,
                    const char *what)
{
  nm_error err;
  nm_stim *s = nm_stim_new(nodes, n, D, dt, &err);
  char at[32];
  snprintf(at, sizeof at, "node %ld", node);
  CHECK(!s && err.status == NM_EINVAL && err.node == node && err.code == why && strstr(err.why, at),
        "stim: %s is refused at node %ld with a reason (got node %ld, code %d: %s)", what, node,
        err.node, err.code, err.why);
  nm_stim_free(s);
}


static void test_errors(void)
{
  nm_stim_node mixed[] = {
    { .kind = NM_STIM_SUM, .n_children = 2 },
    { .kind = NM_STIM_ZERO, .channels = 2 },
    { .kind = NM_STIM_ZERO, .channels = 3 },
  };
  refused(mixed, 3, 10, 0.1, 2, NM_STIM_BAD_CHANNELS, "a sum of 2 and 3 channels");
  nm_stim_node step[] = { { .kind = NM_STIM_STEP, .channels = 1, .p = { 1 } } };
  refused(step, 1, -10, 0.1, 0, NM_STIM_BAD_DURATION, "a negative duration");
  refused(mixed, 2, 10, 0.1, 0, NM_STIM_BAD_TREE, "a truncated tree");
  nm_stim_node wide[] = { { .kind = NM_STIM_SUM, .n_children = 1000 }, { .kind = NM_STIM_ZERO, .channels = 1 } };
  refused(wide, 2, 10, 0.1, 0, NM_STIM_BAD_TREE, "more children than nodes");
}


/* Sizes that cannot be represented or allocated are refused with the size. */
static void test_sizes(void)
{
  nm_stim_node step[] = { { .kind = NM_STIM_STEP, .channels = 1, .p = { 1 } } };
  refused(step, 1, 1e300, 0.1, 0, NM_STIM_TOO_LONG, "a request of 1e301 samples");
  nm_stim_node huge[] = { { .kind = NM_STIM_STEP, .channels = (size_t)1 << 58, .p = { 1 } } };
  nm_error err;
  nm_stim *s = nm_stim_new(huge, 1, 0.8, 0.1, &err);
  CHECK(!s && err.status == NM_EINVAL && err.code == NM_STIM_TOO_BIG && err.node == 0 &&
        err.bytes >= 0x1p58 * 8192 && err.limit == (double)nm_stim_memory_limit(),
        "stim: 2^58 channels are refused with the bytes they need (%g of %g)", err.bytes, err.limit);
  /* A process's streams are reserved before one is made: refused at once. */
  nm_stim_node noise[] = { { .kind = NM_STIM_WIENER, .channels = (size_t)1 << 40 } };
  s = nm_stim_new(noise, 1, 10, 0.1, &err);
  CHECK(!s && err.code == NM_STIM_TOO_BIG && err.node == 0 && err.bytes > err.limit,
        "stim: 2^40 noise channels are refused before any stream is allocated");
  nm_stim_node sum[] = {
    { .kind = NM_STIM_SUM, .n_children = 2 },
    { .kind = NM_STIM_STEP, .channels = (size_t)1 << 30, .p = { 1 } },
    { .kind = NM_STIM_STEP, .channels = (size_t)1 << 30, .p = { 1 } },
  };
  s = nm_stim_new(sum, 3, 10, 0.1, &err);
  CHECK(!s && err.code == NM_STIM_TOO_BIG && err.bytes >= 0x1p30 * 8192,
        "stim: a sum's buffers count towards the limit (%g bytes)", err.bytes);
  CHECK(nm_stim_memory_limit() > ((size_t)1 << 20), "stim: the memory limit is the machine's memory");
}


/* Composites nested past NM_STIM_MAX_DEPTH are refused, not recursed into. */
static void test_depth(void)
{
  size_t n = 10000;
  nm_stim_node *deep = calloc(n, sizeof *deep);
  for (size_t i = 0; i + 1 < n; i++) deep[i] = (nm_stim_node){ .kind = NM_STIM_SUM, .n_children = 1 };
  deep[n - 1] = (nm_stim_node){ .kind = NM_STIM_STEP, .channels = 1, .p = { 1 } };
  refused(deep, n, 10, 0.1, NM_STIM_MAX_DEPTH, NM_STIM_TOO_DEEP, "a tree 10000 deep");
  nm_stim *s = make(deep + n - NM_STIM_MAX_DEPTH, NM_STIM_MAX_DEPTH, 10, 0.1);
  double out[100];
  nm_stim_render(s, out, 100);
  CHECK(out[0] == 1 && out[99] == 1, "stim: a tree NM_STIM_MAX_DEPTH deep renders");
  nm_stim_free(s);
  free(deep);
}


/* Refused renders and samples give a reason naming the values, never a bare status. */
static void test_reasons(void)
{
  nm_stim_node step[] = { { .kind = NM_STIM_STEP, .channels = 3, .p = { 1 } } };
  nm_stim *s = make(step, 1, 10, 0.1);
  double out[3];
  int rc = nm_stim_render(s, NULL, 5);
  CHECK(rc == NM_EINVAL && strstr(nm_stim_reason(s, rc), "no buffer for 5 samples"),
        "stim: a render without a buffer says so: %s", nm_stim_reason(s, rc));
  /* 3 channels x 2^62 samples overflow a size_t: refused before a sample is written. */
  rc = nm_stim_render(s, out, (size_t)1 << 62);
  CHECK(rc == NM_EINVAL && strstr(nm_stim_reason(s, rc), "3 channels x 4611686018427387904 samples cannot be "
                                  "addressed"), "stim: a render whose size wraps is refused: %s",
        nm_stim_reason(s, rc));
  nm_stim_free(s);
  s = make(step, 1, 10, 0.1);
  rc = nm_stim_sample(s, 2000, out);
  CHECK(rc == NM_OK && out[0] == 1, "stim: sample 2000 is read");
  rc = nm_stim_sample(s, 3, out);
  CHECK(rc == NM_EINVAL && strstr(nm_stim_reason(s, rc), "sample 3 has been passed") &&
        strstr(nm_stim_reason(s, rc), "the first still held is 1024"), "stim: a passed sample is named: %s",
        nm_stim_reason(s, rc));
  CHECK(nm_stim_render(NULL, out, 1) == NM_EINVAL && strstr(nm_stim_reason(NULL, NM_EINVAL), "NULL"),
        "stim: a NULL stimulus is refused with a reason");
  nm_stim_free(s);
}


/* A raised interrupt flag stops a render at its next chunk of 1024 samples; a
** lowered one, or none, lets it run: the same samples as a stimulus never
** interrupted, from where the first render stopped (it renders no chunk). */
static void test_interrupt(void)
{
  nm_stim *s = make(ou_sin, 3, 1000, 0.1), *plain = make(ou_sin, 3, 1000, 0.1);
  size_t N = 5000;
  double *out = malloc(2 * N * sizeof *out), *ref = malloc(2 * N * sizeof *ref);
  volatile sig_atomic_t flag = 1;
  nm_stim_interrupt(s, &flag);
  int rc = nm_stim_render(s, out, N);
  CHECK(rc == NM_EINTR && strstr(nm_stim_reason(s, rc), "interrupted after 0 of 5000 samples"),
        "stim: a raised flag stops the render before its first chunk: %d %s", rc, nm_stim_reason(s, rc));
  flag = 0;
  rc = nm_stim_render(s, out, N);
  nm_stim_render(plain, ref, N);
  CHECK(rc == NM_OK && memcmp(out, ref, 2 * N * sizeof *out) == 0,
        "stim: a lowered flag lets it render, the samples unchanged");
  nm_stim_interrupt(s, NULL);
  CHECK(nm_stim_render(s, out, 10) == NM_OK, "stim: no flag, no interrupt");
  free(out);
  free(ref);
  nm_stim_free(s);
  nm_stim_free(plain);
}


/* Finite parameters that add up past the largest double: the render says where. */
static void test_nonfinite(void)
{
  static const nm_stim_node big[] = {
    { .kind = NM_STIM_SUM, .n_children = 2 },
    { .kind = NM_STIM_STEP, .channels = 1, .p = { 1e308 } },
    { .kind = NM_STIM_STEP, .channels = 1, .p = { 1e308 }, .flags = NM_STIM_HAS_START, .start = 0.5 },
  };
  double out[10];
  nm_stim *s = make(big, 3, 1, 0.1);
  int rc = nm_stim_render(s, out, 10);
  const char *why = nm_stim_reason(s, rc);
  CHECK(rc == NM_ENONFINITE && strstr(why, "t = 0.6 ms (sample 5, channel 0") && strstr(why, "is inf"),
        "stim: a sum that overflows to inf is refused at its first sample: %s", why);
  nm_stim_free(s);
}


/* A concatenation of 10000 parts compiles and renders in linear time. */
static void test_many_parts(void)
{
  size_t n = 10000;
  nm_stim_node *nodes = calloc(n + 1, sizeof *nodes);
  double *r = malloc(n * sizeof *r), *out = malloc(n * sizeof *out);
  nodes[0] = (nm_stim_node){ .kind = NM_STIM_CONCAT, .n_children = n, .ratios = r };
  for (size_t i = 0; i < n; i++) {
    r[i] = 1;
    nodes[i + 1] = (nm_stim_node){ .kind = NM_STIM_STEP, .channels = 1, .p = { (double)i } };
  }
  nm_stim *s = make(nodes, n + 1, 10000, 1);
  nm_stim_render(s, out, n);
  int ok = 1;
  for (size_t i = 0; i < n; i++) if (out[i] != (double)i) ok = 0;
  CHECK(ok, "stim: 10000 segments of one sample each, in order");
  nm_stim_free(s);
  free(nodes);
  free(r);
  free(out);
}


int main(void)
{
  test_length();
  test_chunks();
  test_concat();
  test_seeds();
  test_errors();
  test_sizes();
  test_depth();
  test_many_parts();
  test_reasons();
  test_nonfinite();
  test_interrupt();
  return test_summary();
}
