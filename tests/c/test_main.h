/*
** test_main.h: the harness of the C engine tests.  Every check prints one line
** starting with "PASS" or "FAIL" (scripts/run-tests.sh counts them), and
** test_summary() gives the exit status: non-zero when any check failed.
*/
#ifndef test_main_h
#define test_main_h

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int test_n_passed, test_n_failed;

/* Prints "PASS message" or "FAIL file:line: message[: detail]"; returns ok. */
__attribute__((format(printf, 5, 6)))
static inline int test_report(int ok, const char *file, int line, const char *detail,
                              const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  if (ok) printf("PASS "); else printf("FAIL %s:%d: ", file, line);
  vprintf(fmt, ap);
  va_end(ap);
  printf("%s%s\n", !ok && detail ? ": " : "", !ok && detail ? detail : "");
  if (ok) test_n_passed++; else test_n_failed++;
  return ok;
}

/* Relative error against `expect` (absolute when expect is 0); NaN never passes. */
static inline int test_rel_ok(double x, double expect, double tol, char *detail, size_t size)
{
  double err = expect != 0.0 ? fabs(x - expect) / fabs(expect) : fabs(x);
  snprintf(detail, size, "got %.17g, expected %.17g (relative error %.3g, tolerance %.3g)",
           x, expect, err, tol);
  return err <= tol;
}

#define CHECK(cond, ...) test_report(!!(cond), __FILE__, __LINE__, NULL, __VA_ARGS__)
#define CHECK_REL(x, expect, tol, ...) \
  do { \
    char test_detail_[160]; \
    int test_ok_ = test_rel_ok((x), (expect), (tol), test_detail_, sizeof test_detail_); \
    test_report(test_ok_, __FILE__, __LINE__, test_detail_, __VA_ARGS__); \
  } while (0)

static inline int test_summary(void)
{
  printf("# %d passed, %d failed\n", test_n_passed, test_n_failed);
  return test_n_failed != 0;
}

#endif
