/* runstat.c: runs a command and reports its wall time and peak memory, the
 * way the benchmark measures whole processes (a stand-in for /usr/bin/time -v
 * that every machine with a C compiler has).
 * Usage: runstat COMMAND [ARGS...]
 * The command's output passes through; then one line goes to stderr:
 *   runstat wall_s=<seconds> maxrss_kb=<KiB> status=<exit status> cpu_s=<user + system seconds> */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  fflush(NULL);
  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) { perror("runstat: fork"); return 1; }
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) { perror("runstat: wait4"); return 1; }
  double wall = now() - t0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
               (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  fprintf(stderr, "runstat wall_s=%.6f maxrss_kb=%ld status=%d cpu_s=%.3f\n", wall, ru.ru_maxrss, code,
          cpu);
  return code;
}
