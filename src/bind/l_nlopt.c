/*
** l_nlopt.c: the Lua module `neuromass.nlopt`, a binding to NLopt (Steven G.
** Johnson, https://nlopt.readthedocs.io; Debian's libnlopt-dev): bounded,
** derivative-free optimisation of a Lua function, for nm.explore.Evolution.
** Names follow NLopt's (algorithms "GN_CRS2_LM", "LN_BOBYQA", ...; options
** maxeval, ftol_rel, xtol_rel, ...).  An error raised by the Lua function
** force-stops NLopt and is raised again, with its message, once NLopt has
** returned.  Registered by luaopen_neuromass_core as package.preload
** ["neuromass.nlopt"], so `require "neuromass.nlopt"` works wherever
** neuromass.core was loaded.
*/
#include <limits.h>
#include <math.h>
#include <nlopt.h>
#include <string.h>

#include "bind.h"

#define NM_NLOPT_MT "neuromass.nlopt.run"

/* One optimisation: NLopt's handle (destroyed by __gc/__close, so that a Lua
** error raised while the options are read leaks nothing), the Lua state and
** the stack index of the objective, the evaluations done and allowed, and
** whether the objective raised (its error object then at `err_ref`). */
typedef struct {
  nlopt_opt opt;
  lua_State *L;
  int fn;                       /* stack index of the objective */
  int n;                        /* dimensions */
  int evals, maxeval;           /* maxeval 0: no limit */
  int maximise;
  double seed;                  /* nlopt_srand's, or < 0: NLopt's clock seed */
  int err_ref;                  /* LUA_NOREF, or the registry reference of the error */
} run;


static int run_gc(lua_State *L)
{
  run *r = luaL_checkudata(L, 1, NM_NLOPT_MT);
  if (r->opt) nlopt_destroy(r->opt);
  r->opt = NULL;
  if (r->err_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, r->err_ref);
  r->err_ref = LUA_NOREF;
  return 0;
}


/* The objective NLopt calls: f(x) with x a Lua array of r->n numbers; its
** result must be a number (NaN included: the caller decides what a failure
** scores).  Past the budget it returns the worst value without calling Lua,
** so that no algorithm can spend more than maxeval evaluations. */
static double objective(unsigned n, const double *x, double *grad, void *data)
{
  run *r = data;
  lua_State *L = r->L;
  double worst = r->maximise ? -HUGE_VAL : HUGE_VAL;
  (void)grad;                   /* derivative-free algorithms only */
  if (r->err_ref != LUA_NOREF) return worst;
  if (r->maxeval > 0 && r->evals >= r->maxeval) {
    nlopt_force_stop(r->opt);
    return worst;
  }
  if (!lua_checkstack(L, 4)) {
    lua_pushliteral(L, "nlopt: Lua stack overflow");   /* lua_checkstack leaves room for this */
    r->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    nlopt_force_stop(r->opt);
    return worst;
  }
  r->evals++;
  lua_pushvalue(L, r->fn);
  lua_createtable(L, (int)n, 0);
  for (unsigned i = 0; i < n; i++) {
    nmL_pushvalue(L, x[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    r->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    nlopt_force_stop(r->opt);
    return worst;
  }
  int isnum;
  double f = lua_tonumberx(L, -1, &isnum);
  if (!isnum) {
    lua_pushfstring(L, "nlopt: the objective returned %s, not a number", luaL_typename(L, -1));
    r->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    nlopt_force_stop(r->opt);
    return worst;
  }
  lua_pop(L, 1);
  return f;
}


/* The options minimize, maximize and check read (configure). */
static const char *const option_names[] = { "f", "lower", "upper", "x0", "algorithm", "maxeval", "maxtime",
                                            "stopval", "ftol_rel", "ftol_abs", "xtol_rel", "xtol_abs",
                                            "population", "seed", NULL };


/* Raises the message on top of the stack at the line of the Lua code that
** called the running C function (as luaL_error does). */
static int at_caller(lua_State *L)
{
  luaL_where(L, 1);
  lua_insert(L, -2);
  lua_concat(L, 2);
  return lua_error(L);
}


/* Refuses more than `n` arguments (trailing nils aside) to nlopt.`name`:
** they would be dropped (a second table of options, say). */
static void at_most(lua_State *L, int n, const char *name)
{
  int top = lua_gettop(L);
  while (top > n && lua_isnil(L, top)) top--;
  if (top <= n) return;
  if (n == 0) lua_pushfstring(L, "nlopt.%s: takes no argument, got %d", name, top);
  else lua_pushfstring(L, "nlopt.%s: takes at most %d argument%s, got %d", name, n, n == 1 ? "" : "s", top);
  at_caller(L);
}


/* Refuses a field of the options at index 1 that names no option (maxevals
** for maxeval ran with no budget, for ever). */
static void known_options(lua_State *L)
{
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    int known = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int i = 0; option_names[i] && !known; i++) known = strcmp(lua_tostring(L, -1), option_names[i]) == 0;
    if (known) continue;
    const char *key = luaL_tolstring(L, -1, NULL);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "nlopt: unknown option '%s' (the options: ", key);
    luaL_addvalue(&b);
    for (int i = 0; option_names[i]; i++) {
      if (i) luaL_addstring(&b, ", ");
      luaL_addstring(&b, option_names[i]);
    }
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    at_caller(L);
  }
}


/* Field `key` of the options at index 1 as a number, or `def` when absent. */
static double opt_number(lua_State *L, const char *key, double def)
{
  int t = lua_getfield(L, 1, key);
  if (t == LUA_TNIL) { lua_pop(L, 1); return def; }
  if (t != LUA_TNUMBER) luaL_error(L, "nlopt: option '%s' must be a number, got a %s", key, luaL_typename(L, -1));
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}


/* Option `key` of the options table (a number) shown as given (-1, 0.5, inf), pushed on the stack. */
static const char *shown_option(lua_State *L, const char *key)
{
  lua_getfield(L, 1, key);
  return nmL_show_number(L, -1);
}


/* A whole-number option from 0 to `hi` (maxeval, seed), or `def` when absent;
** else an error that shows it as given. */
static double whole_option(lua_State *L, const char *key, double def, double hi, const char *hi_text)
{
  int absent = lua_getfield(L, 1, key) == LUA_TNIL;
  lua_pop(L, 1);
  if (absent) return def;
  double v = opt_number(L, key, def);
  if (!(v >= 0 && v <= hi && v == floor(v)))
    luaL_error(L, "nlopt: option '%s' must be a whole number from 0 to %s, got %s", key, hi_text,
               shown_option(L, key));
  return v;
}


/* A stopping criterion (maxtime, ftol_*, xtol_*): a finite number >= 0, 0 (the
** default) leaving it unset.  NLopt takes any value <= 0, or NaN, as "not
** set": a criterion given below 0, NaN or infinite is a mistake, refused. */
static double criterion(lua_State *L, const char *key)
{
  double v = opt_number(L, key, 0);
  if (!(v >= 0 && v < HUGE_VAL))
    luaL_error(L, "nlopt: option '%s' must be a finite number >= 0 (0: not used), got %s", key,
               shown_option(L, key));
  return v;
}


/* An NLopt setter's result checked: a refused option raises NLopt's reason. */
static void check_set(lua_State *L, run *r, nlopt_result res, const char *what)
{
  if (res < 0) {
    const char *why = nlopt_get_errmsg(r->opt);
    luaL_error(L, "nlopt: %s refused%s%s", what, why ? ": " : "", why ? why : "");
  }
}


/* NLopt's result codes by their names (nlopt.h). */
static const char *result_name(nlopt_result res)
{
  switch (res) {
  case NLOPT_SUCCESS: return "SUCCESS";
  case NLOPT_STOPVAL_REACHED: return "STOPVAL_REACHED";
  case NLOPT_FTOL_REACHED: return "FTOL_REACHED";
  case NLOPT_XTOL_REACHED: return "XTOL_REACHED";
  case NLOPT_MAXEVAL_REACHED: return "MAXEVAL_REACHED";
  case NLOPT_MAXTIME_REACHED: return "MAXTIME_REACHED";
  case NLOPT_FAILURE: return "FAILURE";
  case NLOPT_INVALID_ARGS: return "INVALID_ARGS";
  case NLOPT_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
  case NLOPT_ROUNDOFF_LIMITED: return "ROUNDOFF_LIMITED";
  case NLOPT_FORCED_STOP: return "FORCED_STOP";
  default: return "UNKNOWN";
  }
}


/* The NLopt algorithm named `name` for a search in `n` dimensions (0: any),
** or -1 with the reason pushed: an unknown name; one that needs derivatives;
** one that runs a subsidiary optimiser (MLSL from each of its points, AUGLAG
** on each penalised problem: nlopt_set_local_optimizer, which this binding
** does not set; NLopt 2.7 then crashes the process in nlopt_set_xtol_abs);
** one left out of the NLopt linked (nlopt_algorithm_name says "NOT
** COMPILED": Debian's build has no C++ part, so no GN_AGS, whose optimize
** returns INVALID_ARGS); NEWUOA below 2 dimensions (NLopt's own rule,
** "dimension 1 must be >= 2", met only once nlopt_optimize runs).  The one
** owner of these rules: nlopt.minimize/maximize/check/algorithm all ask it. */
static nlopt_algorithm algorithm_of(lua_State *L, const char *name, size_t n)
{
  static const char *const allowed = "GN_CRS2_LM, GN_ISRES, GN_ESCH, GN_DIRECT_L, LN_BOBYQA, LN_SBPLX, ...";
  nlopt_algorithm alg = nlopt_algorithm_from_string(name);
  if ((int)alg < 0) {
    lua_pushfstring(L, "nlopt: unknown algorithm '%s' (NLopt's names without NLOPT_: %s)", name, allowed);
    return (nlopt_algorithm)-1;
  }
  if (!strchr("GL", name[0]) || name[1] != 'N' || name[2] != '_') {
    lua_pushfstring(L, "nlopt: algorithm '%s' needs derivatives or a local optimiser: give a derivative-free "
                       "one (GN_* or LN_*: %s)", name, allowed);
    return (nlopt_algorithm)-1;
  }
  if (alg == NLOPT_GN_MLSL || alg == NLOPT_GN_MLSL_LDS || alg == NLOPT_LN_AUGLAG || alg == NLOPT_LN_AUGLAG_EQ) {
    lua_pushfstring(L, "nlopt: algorithm '%s' needs a local optimiser (NLopt's MLSL and AUGLAG run one), which "
                       "is not set: choose %s", name, allowed);
    return (nlopt_algorithm)-1;
  }
  if (strstr(nlopt_algorithm_name(alg), "NOT COMPILED")) {
    lua_pushfstring(L, "nlopt: algorithm '%s' is not in the NLopt library linked (%s): choose %s", name,
                    nlopt_algorithm_name(alg), allowed);
    return (nlopt_algorithm)-1;
  }
  if ((alg == NLOPT_LN_NEWUOA || alg == NLOPT_LN_NEWUOA_BOUND) && n == 1) {
    lua_pushfstring(L, "nlopt: algorithm '%s' needs 2 dimensions or more (NLopt's NEWUOA), the search has 1: "
                       "choose LN_BOBYQA, LN_SBPLX, GN_CRS2_LM, ...", name);
    return (nlopt_algorithm)-1;
  }
  return alg;
}


/* The optimisation of the options at index 1 created and configured, every
** option checked (the algorithm for the dimensions, the bounds, x0, the
** criteria: what NLopt would refuse), on the stack: f (or nil when absent
** and !need_f), lower, upper, x, the run (to be closed), in that order. */
static run *configure(lua_State *L, int maximise, int need_f, const char *name)
{
  at_most(L, 1, name);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  known_options(L);
  int tf = lua_getfield(L, 1, "f");
  if (tf != LUA_TFUNCTION && (need_f || tf != LUA_TNIL))
    luaL_error(L, "nlopt: option 'f' must be a function(x) -> number");
  int fn = lua_gettop(L);                                       /* 2 */
  size_t n, nu;
  double *lower = nmL_numbers(L, 1, "lower", &n);               /* 3 */
  double *upper = nmL_numbers(L, 1, "upper", &nu);              /* 4 */
  if (n == 0 || n != nu) luaL_error(L, "nlopt: 'lower' and 'upper' must have the same length, at least 1 (got %d and %d)",
                                    (int)n, (int)nu);
  if (n > 100000) luaL_error(L, "nlopt: %d dimensions is too many", (int)n);
  double *x = lua_newuserdatauv(L, n * sizeof *x, 0);          /* 5 */
  if (lua_getfield(L, 1, "x0") != LUA_TNIL) {
    size_t n0;
    double *x0 = nmL_numbers(L, 1, "x0", &n0);
    if (n0 != n) luaL_error(L, "nlopt: 'x0' has %d numbers, the bounds %d", (int)n0, (int)n);
    memcpy(x, x0, n * sizeof *x);
    lua_pop(L, 1);
  } else {
    for (size_t i = 0; i < n; i++) x[i] = lower[i] + 0.5 * (upper[i] - lower[i]);
  }
  lua_pop(L, 1);
  for (size_t i = 0; i < n; i++) {
    if (!(lower[i] <= upper[i])) {   /* (the numbers as messages show them: a NaN as "nan") */
      lua_pushnumber(L, lower[i]);
      const char *lo = nmL_show_number(L, -1);
      lua_pushnumber(L, upper[i]);
      luaL_error(L, "nlopt: bound %d: lower %s is not <= upper %s", (int)i + 1, lo, nmL_show_number(L, -1));
    }
  }
  const char *alg_name = "GN_CRS2_LM";
  if (lua_getfield(L, 1, "algorithm") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "nlopt: option 'algorithm' must be a name such as \"GN_CRS2_LM\"");
    alg_name = lua_tostring(L, -1);
  }
  nlopt_algorithm alg = algorithm_of(L, alg_name, n);
  if ((int)alg < 0) lua_error(L);
  double maxeval = whole_option(L, "maxeval", 0, 1e9, "10^9 (0: no cap)");
  double seed = whole_option(L, "seed", -1, 0x1p64 - 2048, "2^64 - 1");   /* (the largest double below 2^64) */

  run *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  r->err_ref = LUA_NOREF;
  luaL_setmetatable(L, NM_NLOPT_MT);
  lua_toclose(L, -1);
  r->opt = nlopt_create(alg, (unsigned)n);
  if (!r->opt) luaL_error(L, "nlopt: cannot create an optimiser '%s' in %d dimensions", alg_name, (int)n);
  r->L = L;
  r->fn = fn;
  r->n = (int)n;
  r->maxeval = (int)maxeval;
  r->maximise = maximise;
  check_set(L, r, nlopt_set_lower_bounds(r->opt, lower), "lower bounds");
  check_set(L, r, nlopt_set_upper_bounds(r->opt, upper), "upper bounds");
  if (maximise) check_set(L, r, nlopt_set_max_objective(r->opt, objective, r), "the objective");
  else check_set(L, r, nlopt_set_min_objective(r->opt, objective, r), "the objective");
  if (maxeval > 0) check_set(L, r, nlopt_set_maxeval(r->opt, (int)maxeval), "maxeval");
  double v;
  if ((v = criterion(L, "maxtime")) > 0) check_set(L, r, nlopt_set_maxtime(r->opt, v), "maxtime");
  if ((v = criterion(L, "ftol_rel")) > 0) check_set(L, r, nlopt_set_ftol_rel(r->opt, v), "ftol_rel");
  if ((v = criterion(L, "ftol_abs")) > 0) check_set(L, r, nlopt_set_ftol_abs(r->opt, v), "ftol_abs");
  if ((v = criterion(L, "xtol_rel")) > 0) check_set(L, r, nlopt_set_xtol_rel(r->opt, v), "xtol_rel");
  if ((v = criterion(L, "xtol_abs")) > 0) check_set(L, r, nlopt_set_xtol_abs1(r->opt, v), "xtol_abs");
  v = opt_number(L, "population", 0);
  if (!(v >= 0 && v <= INT_MAX && v == floor(v)))
    luaL_error(L, "nlopt: option 'population' must be a whole number from 0 (NLopt's default) to %d, got %s",
               INT_MAX, shown_option(L, "population"));
  if (v > 0) check_set(L, r, nlopt_set_population(r->opt, (unsigned)v), "population");
  if (lua_getfield(L, 1, "stopval") != LUA_TNIL && lua_type(L, -1) == LUA_TNUMBER && isnan(lua_tonumber(L, -1)))
    luaL_error(L, "nlopt: option 'stopval' must be a number, not NaN (leave it out for none)");
  lua_pop(L, 1);
  v = opt_number(L, "stopval", NAN);
  if (!isnan(v)) check_set(L, r, nlopt_set_stopval(r->opt, v), "stopval");
  r->seed = seed;
  return r;
}


/*
** nlopt.minimize(opts), nlopt.maximize(opts) -> { x = { numbers }, f = best value, result = NLopt's
** result name ("MAXEVAL_REACHED", "XTOL_REACHED", ...), evaluations = n }.
** opts: f = function(x) -> number (x: an array of numbers, one per
** dimension; NLopt's nlopt_set_min_objective / nlopt_set_max_objective);
** lower, upper = arrays of the bounds (same length, lower <= upper); x0 =
** the starting point (default: the middle of the bounds); algorithm = NLopt's name without
** the NLOPT_ prefix (default "GN_CRS2_LM"; "GN_ISRES", "GN_ESCH",
** "LN_BOBYQA", "LN_SBPLX", "LN_COBYLA", "LN_NELDERMEAD", "GN_DIRECT_L", ...:
** the derivative-free ones that need no local optimiser, algorithm_of's);
** maxeval (an exact cap: past it f is not
** called), maxtime (s), stopval, ftol_rel, ftol_abs, xtol_rel, xtol_abs
** (one number for every dimension; these criteria and maxtime finite and >= 0, 0 = unset),
** population (a whole number, 0 = NLopt's default), seed
** (nlopt_srand: the stochastic algorithms then repeat their runs exactly;
** default: NLopt seeds from the clock).  Errors: bad options; an error
** raised by f stops NLopt and is raised again as it was; NLopt's own failure
** (FAILURE, INVALID_ARGS, OUT_OF_MEMORY) is raised with its reason;
** ROUNDOFF_LIMITED is returned as a result.  With maxeval reached the
** result is "MAXEVAL_REACHED" and x, f the best point seen.
*/
static int optimize(lua_State *L, int maximise)
{
  run *r = configure(L, maximise, 1, maximise ? "maximize" : "minimize");
  double *x = lua_touserdata(L, 5);
  size_t n = (size_t)r->n;
  const char *alg_name = nlopt_algorithm_to_string(nlopt_get_algorithm(r->opt));
  if (r->seed >= 0) nlopt_srand((unsigned long)r->seed);
  else nlopt_srand_time();
  double f = maximise ? -HUGE_VAL : HUGE_VAL;
  nlopt_result res = nlopt_optimize(r->opt, x, &f);
  if (r->err_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->err_ref);
    return lua_error(L);        /* the to-be-closed run destroys the optimiser */
  }
  /* ROUNDOFF_LIMITED still holds the best point found: a result, not a failure. */
  if (res < 0 && res != NLOPT_FORCED_STOP && res != NLOPT_ROUNDOFF_LIMITED) {
    const char *why = nlopt_get_errmsg(r->opt);
    return luaL_error(L, "nlopt: %s failed: %s%s%s", alg_name, result_name(res), why ? ": " : "", why ? why : "");
  }
  /* Stopped at the exact budget (our force-stop): NLopt's own name for it. */
  if (res == NLOPT_FORCED_STOP) res = NLOPT_MAXEVAL_REACHED;
  lua_createtable(L, 0, 4);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    nmL_pushvalue(L, x[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "x");
  nmL_pushvalue(L, f);
  lua_setfield(L, -2, "f");
  lua_pushstring(L, result_name(res));
  lua_setfield(L, -2, "result");
  lua_pushinteger(L, r->evals);
  lua_setfield(L, -2, "evaluations");
  return 1;
}


static int l_minimize(lua_State *L) { return optimize(L, 0); }
static int l_maximize(lua_State *L) { return optimize(L, 1); }


/* nlopt.check(opts) -> true: nlopt.minimize's options checked without
** optimising (f may be absent): the optimiser created and configured, so that
** whatever NLopt would refuse (the algorithm for the dimensions, the bounds,
** x0, the criteria) is raised here, as minimize would raise it.  A search
** asks it before it touches anything (nm.explore.Evolution, before an
** earlier run's table is removed). */
static int l_check(lua_State *L)
{
  configure(L, 0, 0, "check");
  lua_pushboolean(L, 1);
  return 1;
}


/* nlopt.algorithm(name[, n]) -> true, or nil and the reason: whether `name`
** is an algorithm that nlopt.minimize/maximize take in n dimensions (any
** when n is absent): derivative-free, needing no local optimiser, compiled
** in the NLopt linked (algorithm_of). */
static int l_algorithm(lua_State *L)
{
  at_most(L, 2, "algorithm");
  const char *name = luaL_checkstring(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, 0);
  if (n < 0) luaL_argerror(L, 2, "a number of dimensions, 1 or more");
  if ((int)algorithm_of(L, name, (size_t)n) < 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


/* nlopt.version() -> "2.7.1": the NLopt library linked. */
static int l_version(lua_State *L)
{
  int major, minor, bugfix;
  at_most(L, 0, "version");
  nlopt_version(&major, &minor, &bugfix);
  lua_pushfstring(L, "%d.%d.%d", major, minor, bugfix);
  return 1;
}


/* Reading a field the module lacks (nlopt.minimise): an error at the
** caller's line naming it and the fields there are, not a nil that fails
** later as "attempt to call a nil value". */
static int l_no_field(lua_State *L)
{
  return luaL_error(L, "neuromass.nlopt has no field '%s' (its fields: algorithm, check, maximize, minimize, "
                    "version)", luaL_tolstring(L, 2, NULL));
}


int luaopen_neuromass_nlopt(lua_State *L);

int luaopen_neuromass_nlopt(lua_State *L)
{
  static const luaL_Reg none[] = { { NULL, NULL } };
  static const luaL_Reg fields[] = { { "minimize", l_minimize }, { "maximize", l_maximize },
                                     { "version", l_version }, { "algorithm", l_algorithm },
                                     { "check", l_check }, { NULL, NULL } };
  static const luaL_Reg strict[] = { { "__index", l_no_field }, { NULL, NULL } };
  nmL_newclass(L, NM_NLOPT_MT, none, run_gc, NULL);
  luaL_newlib(L, fields);
  luaL_newlib(L, strict);
  lua_setmetatable(L, -2);
  return 1;
}
