/*
** l_file.c: a small file written whole the engine's one way (atomic_file.c),
** for the Lua library's text outputs (the audio's JSON sidecar):
**   core.write_temp(path, text) -> pending | nil, failure { kind = "io", message }
**     writes text under path's temporary name ("<path>.tmp-<pid>.<host>"); nothing
**     is left when that fails;
**   pending:commit() -> true | nil, failure   renames it to path;
**   pending:discard()   (also __gc, __close)  removes it unless committed;
**   pending:temp() -> the temporary name, for a program that writes the file
**     itself (gnuplot draws a figure into it: write_temp(path, "") first);
**   core.claim_file(path, text) -> true | nil, failure { kind = "exists" | "io",
**     message }: writes text as path only if no file has that name (written
**     under the temporary name, then hard-linked: nm_outfile_claim), so that
**     of two processes claiming one path only one succeeds ("exists" for the
**     other, the file left as the first wrote it); nothing else is left;
**   core.reclaim_file(path, old, text) -> the same, for a path whose file the
**     caller read holding `old`: replaced by text only if it still holds it
**     (nm_outfile_reclaim: of two processes replacing one file, only one
**     succeeds, "exists" for the other, the file left as the first wrote it);
**   core.temp_name(path) -> the temporary name every writer of this process
**     gives path ("<path>.tmp-<pid>.<host>"), writing nothing: which files
**     of a folder are temporary ones, and whose (explore/common.lua).
*/
#include <errno.h>
#include <string.h>

#include "bind.h"

#define NM_PENDING_MT "neuromass.PendingFile"

typedef struct {
  nm_outfile out;
  int live;                     /* the temporary file exists, not committed */
} LPending;


static int write_temp(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t n;
  const char *text = luaL_checklstring(L, 2, &n);
  LPending *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, NM_PENDING_MT);
  if (nm_outfile_init(&p->out, path) != NM_OK) return luaL_error(L, "write_temp: out of memory");
  int e = nm_outfile_write_all(&p->out, text, n);
  if (e) {
    nmL_push_failure(L, "io", strerror(e));
    return 2;
  }
  p->live = 1;
  return 1;
}


/* claim_file and reclaim_file: `old` NULL claims a new file. */
static int claim(lua_State *L, const char *path, const char *old, size_t n_old, const char *text, size_t n)
{
  nm_outfile o;
  if (nm_outfile_init(&o, path) != NM_OK) return luaL_error(L, "claim_file: out of memory");
  int e = old ? nm_outfile_reclaim(&o, old, n_old, text, n) : nm_outfile_claim(&o, text, n);
  nm_outfile_free(&o);
  if (e == EEXIST) {
    nmL_push_failure(L, "exists", lua_pushfstring(L, "'%s' exists already", path));
    return 2;
  }
  if (e) {
    nmL_push_failure(L, "io", strerror(e));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


static int claim_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t n;
  const char *text = luaL_checklstring(L, 2, &n);
  return claim(L, path, NULL, 0, text, n);
}


static int reclaim_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  size_t n_old, n;
  const char *old = luaL_checklstring(L, 2, &n_old), *text = luaL_checklstring(L, 3, &n);
  return claim(L, path, old, n_old, text, n);
}


static int pending_commit(lua_State *L)
{
  LPending *p = luaL_checkudata(L, 1, NM_PENDING_MT);
  if (!p->live) return luaL_error(L, "commit: the file '%s' was settled already", p->out.path);
  int e = nm_outfile_commit(&p->out, NULL);
  if (e) {
    nm_outfile_discard(&p->out);
    p->live = 0;
    nmL_push_failure(L, "io", strerror(e));
    return 2;
  }
  p->live = 0;
  lua_pushboolean(L, 1);
  return 1;
}


static int pending_temp(lua_State *L)
{
  LPending *p = luaL_checkudata(L, 1, NM_PENDING_MT);
  if (!p->live) return luaL_error(L, "temp: the file '%s' was settled already", p->out.path);
  lua_pushstring(L, p->out.tmp);
  return 1;
}


static int pending_discard(lua_State *L)
{
  LPending *p = luaL_checkudata(L, 1, NM_PENDING_MT);
  if (p->live) nm_outfile_discard(&p->out);
  p->live = 0;
  nm_outfile_free(&p->out);
  return 0;
}


static int temp_name(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  nm_outfile o;
  if (nm_outfile_init(&o, path) != NM_OK) return luaL_error(L, "temp_name: out of memory");
  lua_pushstring(L, o.tmp);
  nm_outfile_free(&o);
  return 1;
}


void nmL_open_file(lua_State *L)
{
  static const luaL_Reg meth[] = {
    { "commit", pending_commit }, { "discard", pending_discard }, { "temp", pending_temp },
    { NULL, NULL }
  };
  nmL_newclass(L, NM_PENDING_MT, meth, pending_discard, NULL);
  lua_pushcfunction(L, write_temp);
  lua_setfield(L, -2, "write_temp");
  lua_pushcfunction(L, claim_file);
  lua_setfield(L, -2, "claim_file");
  lua_pushcfunction(L, reclaim_file);
  lua_setfield(L, -2, "reclaim_file");
  lua_pushcfunction(L, temp_name);
  lua_setfield(L, -2, "temp_name");
}
