/*
** l_dir.c: directories, for the Lua library's output folders and the
** exploration's parts and claims:
**   core.mkdir_p(path) -> true | nil, failure { kind = "io", message }
**     creates a directory and its parents (an existing one is fine);
**   core.list_dir(path) -> names | nil, failure { kind = "io", message }
**     the names of the entries of a directory (not "." and ".."), in the
**     order the system gives (none in particular); a directory that does not exist has none ({}); any other
**     failure (not a directory, no permission, a read error) is said;
**   core.claim(path) -> true | false | nil, failure { kind = "io", message }
**     creates the empty file `path` if no file of that name exists, in one
**     step of the file system (open with O_CREAT | O_EXCL): true when this
**     call created it, false when it was there already; processes that try
**     the same name at once get true in exactly one of them (how worker
**     processes share out an exploration's points: explore/spread.lua);
**   core.lock_dir(path[, shared]) -> lock | false | nil, failure { kind = "io", message }
**     takes an exclusive lock of the directory `path` (flock, not waiting;
**     with `shared` true a shared one, which others may share but which no
**     exclusive one joins: an exploration's array tasks):
**     a lock (released by lock:release(), __close or __gc, or when every
**     process holding it has ended: the descriptor is inherited by the
**     processes this one starts), false when another process holds it;
**     nil when the file system cannot lock (some network ones);
**   core.pid() -> this process's id, and core.alive(pid) -> true when a
**     process of that id exists (kill(pid, 0); one of another user too):
**     what the record of a lock's holders names (explore/spread.lua).
*/
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "bind.h"


static int core_mkdir_p(lua_State *L)
{
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  char *buf = lua_newuserdatauv(L, len + 1, 0);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char keep = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
      nmL_push_failure(L, "io", strerror(errno));
      return 2;
    }
    buf[i] = keep;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    nmL_push_failure(L, "io", "not a directory");
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


/* The directory stream of list_dir, closed by __gc or __close when a Lua
** error (out of memory) leaves the listing half done. */
typedef struct { DIR *d; } LDir;

static int ldir_close(lua_State *L)
{
  LDir *h = lua_touserdata(L, 1);
  if (h->d) closedir(h->d);
  h->d = NULL;
  return 0;
}


static int core_list_dir(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  LDir *h = lua_newuserdatauv(L, sizeof *h, 0);     /* index 2 */
  h->d = NULL;
  if (luaL_newmetatable(L, "neuromass.DirStream")) {
    lua_pushcfunction(L, ldir_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, ldir_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, 2);
  lua_newtable(L);                                    /* index 3: the names */
  if (!(h->d = opendir(path))) {
    if (errno == ENOENT) return 1;
    nmL_push_failure(L, "io", strerror(errno));
    return 2;
  }
  lua_Integer n = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(h->d);
    if (!e) break;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, 3, ++n);
  }
  if (errno != 0) {
    nmL_push_failure(L, "io", strerror(errno));
    return 2;
  }
  lua_settop(L, 3);
  return 1;
}


static int core_claim(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno == EEXIST) {
      lua_pushboolean(L, 0);
      return 1;
    }
    nmL_push_failure(L, "io", strerror(errno));
    return 2;
  }
  close(fd);
  lua_pushboolean(L, 1);
  return 1;
}


/* A directory's lock: its descriptor (-1 once released). */
#define DIRLOCK_MT "neuromass.DirLock"
typedef struct { int fd; } LLock;

static int llock_release(lua_State *L)
{
  LLock *k = luaL_checkudata(L, 1, DIRLOCK_MT);
  if (k->fd >= 0) close(k->fd);
  k->fd = -1;
  return 0;
}


static int core_lock_dir(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  int shared = lua_toboolean(L, 2);
  LLock *k = lua_newuserdatauv(L, sizeof *k, 0);
  k->fd = -1;
  luaL_setmetatable(L, DIRLOCK_MT);
  /* (no O_CLOEXEC: worker processes keep the lock while any of them runs) */
  k->fd = open(path, O_RDONLY | O_DIRECTORY);
  if (k->fd < 0) {
    nmL_push_failure(L, "io", strerror(errno));
    return 2;
  }
  if (flock(k->fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    int err = errno;
    close(k->fd);
    k->fd = -1;
    if (err == EWOULDBLOCK) {
      lua_pushboolean(L, 0);
      return 1;
    }
    nmL_push_failure(L, "io", strerror(err));
    return 2;
  }
  return 1;
}


static int core_pid(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}


static int core_alive(lua_State *L)
{
  lua_Integer pid = luaL_checkinteger(L, 1);
  /* (0 and the negative ids name groups, not a process) */
  lua_pushboolean(L, pid > 0 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM));
  return 1;
}


void nmL_open_dir(lua_State *L)
{
  static const luaL_Reg lock_methods[] = { { "release", llock_release }, { NULL, NULL } };
  nmL_newclass(L, DIRLOCK_MT, lock_methods, llock_release, NULL);
  lua_pushcfunction(L, core_pid);
  lua_setfield(L, -2, "pid");
  lua_pushcfunction(L, core_alive);
  lua_setfield(L, -2, "alive");
  lua_pushcfunction(L, core_lock_dir);
  lua_setfield(L, -2, "lock_dir");
  lua_pushcfunction(L, core_claim);
  lua_setfield(L, -2, "claim");
  lua_pushcfunction(L, core_mkdir_p);
  lua_setfield(L, -2, "mkdir_p");
  lua_pushcfunction(L, core_list_dir);
  lua_setfield(L, -2, "list_dir");
}
