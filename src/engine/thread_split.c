/*
** thread_split.c: how the threaded loop (step_threads.c) cuts a phase of a
** step between its threads, from how fast each thread has lately been.  Cores
** are not always equal: hybrid processors have fast and slow ones, and a
** virtual machine's cores can differ by half when the host shares one with
** another guest.  Cutting the work evenly then leaves the fast threads waiting
** for the slow one at every barrier; cutting it by measured speed makes them
** arrive together.  Where a cut falls changes no result (every row, lane and
** noise channel is computed by one thread, the same way), only the time.
*/
#include "sim.h"


/* The least share of a phase a thread keeps, so that its speed stays known:
** this fraction of an even share (2 % of the work of one of 2 threads). */
#define MIN_OF_EVEN 0.04

/* How far a new cut moves towards the balanced one: measures of a few hundred
** steps are noisy (a thread preempted once looks slow), so cuts move halfway. */
#define DAMPING 0.5


void nm_split_even(double *cut, int parts, double lighter)
{
  double shares = parts - lighter;
  for (int t = 0; t <= parts; t++) cut[t] = t == 0 ? 0.0 : ((double)t - lighter) / shares;
  cut[parts] = 1.0;
}


void nm_split_balance(double *cut, const double *rate, double extra, int parts)
{
  double share[NM_MAX_THREADS], sum = 0.0, least = MIN_OF_EVEN / parts;
  for (int t = 0; t < parts; t++) {
    if (!(rate[t] > 0.0)) return;       /* a thread with no measure: keep the cuts */
    sum += rate[t];
  }
  /* Every thread busy for the same time T: thread t does rate[t] * T of the
  ** phase, thread 0 rate[0] * (T - extra); the shares add up to 1. */
  double T = (1.0 + rate[0] * extra) / sum;
  for (int t = 0; t < parts; t++) share[t] = rate[t] * (t == 0 ? T - extra : T);
  double total = 0.0;
  for (int t = 0; t < parts; t++) total += share[t] > 0.0 ? share[t] : 0.0;
  /* Shares under the least are raised to it, the others scaled to make room. */
  double low = 0.0, rest = 0.0;
  for (int t = 0; t < parts; t++) {
    share[t] = share[t] > 0.0 ? share[t] / total : 0.0;
    if (share[t] < least) low += least; else rest += share[t];
  }
  double at = 0.0;
  for (int t = 1; t < parts; t++) {
    at += share[t - 1] < least ? least : share[t - 1] * (1.0 - low) / rest;
    cut[t] += DAMPING * (at - cut[t]);
  }
  cut[0] = 0.0;
  cut[parts] = 1.0;
}
