--- Output-path preflight: the one owner of the checks that every output of
-- one call passes before anything is integrated or written.  The outputs of
-- a call (run{ output = { csv, audio } } and the audio's JSON sidecar,
-- write_csv, write_audio and its sidecar, sonify's file and sidecar) must be
-- distinct files (compared by resolved absolute path, and by realpath when
-- they or their directories exist), none may be the running script or an
-- input of the call, each one's directory must exist and take a new file, and an
-- existing output must be a regular file (it is replaced by rename, which
-- would put a regular file in place of a pipe, a device or a symlink); a
-- file name may not be only an extension (".png": a hidden file, by mistake)
-- nor name a directory ("q/": outputs.name_problem), nor be named as an audio
-- file's sidecar ('b.wav.json') unless it is one (audio/sidecar.lua's audio_of).
-- Also the names of the files a failed run keeps (<stem>.partial.<ext>).
local core = require "neuromass.core"
local paths = require "neuromass.paths"
local context = require "neuromass.context"
local check = require "neuromass._check"
local sidecar = require "neuromass.audio.sidecar"
local formats = require "neuromass.audio.formats"

local ipairs, string, type, table = ipairs, string, type, table

local M = {}

-- What core.path_info's kind says a path is, in words.
local KIND_NAMES = {
  directory = "a directory", symlink = "a symbolic link", fifo = "a named pipe (FIFO)",
  device = "a device", socket = "a socket", other = "a special file",
}

-- "role 'path'" (or "'path'" when the call has a single, unnamed output).
local function named(o)
  if o.role then return string.format("%s '%s'", o.role, o.given or o.path) end
  return string.format("'%s'", o.given or o.path)
end

-- The identities of a file: its lexical absolute path, and its real path
-- (the file's own when it exists, else its directory's plus its name).
local function identities(info)
  local ids = { info.absolute }
  local real = info.real or (info.dir_real and (info.dir_real:gsub("/$", "") .. "/" ..
                                                 info.absolute:match("[^/]*$")))
  if real and real ~= info.absolute then ids[2] = real end
  return ids
end

local function same(a, b)
  for _, x in ipairs(a) do
    for _, y in ipairs(b) do if x == y then return true end end
  end
  return false
end

-- The file of the user's script that called into the library: the first
-- frame on the stack that is neither the library's nor C (nil: none, or a chunk not from a file).
local function running_script()
  local info = check.user_info()
  local src = info and info.source
  return type(src) == "string" and src:sub(1, 1) == "@" and src:sub(2) or nil
end

--- outputs.name_problem(path[, ext]) -> nil, or what is wrong with the file name of
-- the output `path` (as the user gave it), to follow the quoted path
-- (" names a directory ...", ": the file name is only an extension ..."): the one rule of every output's
-- name: one ending in '/', or '.' or '..', names a directory; one that is
-- only an extension behind one or more dots ('.png', '..png') would be a
-- hidden file named after its format, never what was meant.  outputs.check
-- applies it; the writers that take the format from the extension (plot,
-- audio) ask it first, so that such a name is not told it has no extension;
-- `ext` is the extension of the example a directory's message gives (default "csv").
function M.name_problem(path, ext)
  if type(path) ~= "string" or path == paths.STDOUT then return nil end
  local name = path:match("[^/]*$")
  if name == "" or name == "." or name == ".." then
    return string.format(" names a directory%s, not a file: give the file's name (as in '%s%sout.%s')",
                         name == "" and " (it ends in '/')" or "", path, name == "" and "" or "/", ext or "csv")
  end
  local dots, own = name:match("^(%.+)(%w+)$")
  if own then
    return string.format(": the file name is only %s extension (name the file, as in 'out.%s')",
                         #dots > 1 and "dots and an" or "an", own)
  end
  return nil
end

--- outputs.resolve(path, level[, role]) -> the path under the command line's
-- --out (created when needed); raises at the caller's caller (`level`) when
-- the path is empty (naming `role`, e.g. "run: output.bold") or --out
-- cannot be created.
function M.resolve(path, level, role)
  local full = paths.resolve(path, level + 1, role)   -- (not a tail call: the level counts this frame)
  return full
end

--- outputs.check(what, level, outs, ins): raises "what: <role> '<path>' ..."
-- at `level` unless every output is usable.  outs = { { role = "output.csv"
-- (or nil), path = resolved path, given = the user's spelling }, ... }; ins =
-- { { role = "the input CSV", path = ... }, ... }.  The script calling the
-- library at `level` is an input too.  Each output's directory must take a
-- new file: its temporary file is made and removed (not for probe = false: a
-- file written last, such as an audio sidecar; nor under neuromass info).
function M.check(what, level, outs, ins)
  -- (at the user's line, found on the stack: a level counted from here
  -- points at C when the library was called by pcall(obj.method, ...))
  local function fail(fmt, ...) check.error(what .. ": " .. string.format(fmt, ...), level + 2) end
  local seen, inputs = {}, {}
  for _, i in ipairs(ins or {}) do inputs[#inputs + 1] = { o = i, ids = identities(core.path_info(i.path)) } end
  local script = running_script()
  if script then
    inputs[#inputs + 1] = { o = { role = "the running script" }, ids = identities(core.path_info(script)) }
  end
  for _, o in ipairs(outs) do
    if o.path == paths.STDOUT then     -- standard output: one output of the call at most
      for _, prev in ipairs(seen) do
        if prev.ids[1] == paths.STDOUT then fail("%s is also %s", named(o), prev.o.role or "another output") end
      end
      seen[#seen + 1] = { o = o, ids = { paths.STDOUT } }
      goto next
    end
    local bad_name = M.name_problem(o.given or o.path)
    if bad_name then fail("%s%s", named(o), bad_name) end
    local audio = not o.sidecar and sidecar.audio_of(o.given or o.path)
    if audio then
      fail("%s is the name of an audio file's sidecar (the JSON written beside '%s'): it would replace " ..
           "that sidecar, or be replaced by it; name the output otherwise", named(o), audio)
    end
    local info = core.path_info(o.path)
    if info.is_dir then fail("%s is a directory", named(o)) end
    if info.kind and info.kind ~= "file" then
      fail("%s is %s, not a regular file: writing it would replace the %s with a regular file " ..
           "(use \"-\" for standard output, or the path of a regular file)", named(o),
           KIND_NAMES[info.kind], info.kind == "symlink" and "link (not its target)"
           or (KIND_NAMES[info.kind]:gsub("^an? ", "")))
    end
    local made_by_run = paths.in_unmade_out(o.path)   -- neuromass info: --out, which a run creates
    if not info.dir_exists and not made_by_run then
      if info.dir_is_file then fail("%s: '%s' is not a directory", named(o), info.dir) end
      fail("%s: the directory '%s' does not exist", named(o), info.dir)
    elseif not info.dir_writable and not made_by_run then
      fail("%s: the directory '%s' is not writable", named(o), info.dir)
    end
    local ids = identities(info)
    for _, prev in ipairs(seen) do
      if same(ids, prev.ids) then fail("%s is also %s", named(o), prev.o.role or "another output") end
    end
    for _, i in ipairs(inputs) do
      if same(ids, i.ids) then
        fail("%s is %s%s: it would be overwritten", named(o), i.o.role,
             i.o.path and (" '" .. i.o.path .. "'") or "")
      end
    end
    -- (a sidecar, JSON, under a name that says audio or CSV would replace such a file, or pass for one)
    local ext = o.sidecar and (o.given or o.path):match("[^/]%.(%w+)$")
    if ext and (formats.container[ext:lower()] or ext:lower() == "csv") then
      fail("%s is a name for %s file (.%s), and the sidecar is JSON: give it a path ending in .json, or " ..
           "leave 'sidecar' out (it is then the audio file's name + .json)", named(o),
           ext:lower() == "csv" and "a CSV" or "an audio", ext)
    end
    seen[#seen + 1] = { o = o, ids = ids }
    ::next::
  end
  -- A writable directory may still refuse a new file (/proc, a read-only
  -- mount for root): make and drop the temporary file the writer makes
  -- first, so the refusal comes now with that call's own reason.
  -- (neuromass info writes nothing, not even this.)
  local h = context.get()
  if h and h.mode == "info" then return end
  for _, s in ipairs(seen) do
    local o = s.o
    if o.path ~= paths.STDOUT and o.probe ~= false and not paths.in_unmade_out(o.path) then
      local probe, failure = core.write_temp(o.path, "")
      if not probe then
        fail("%s: cannot create a file in '%s' (creating its temporary file '%s' failed: %s)", named(o),
             core.path_info(o.path).dir, core.temp_name(o.path), failure.message)
      end
      probe:discard()
    end
  end
end

--- outputs.file_id(path) -> one name per file: its real path when it or its
-- directory exists (so "./o.csv" and "o.csv" are one file), else its
-- absolute path.  Standard output is "-".
function M.file_id(path)
  if path == paths.STDOUT then return path end
  local ids = identities(core.path_info(path))
  return ids[#ids]
end

--- outputs.is_stdout(path): true for "-", standard output.
function M.is_stdout(path) return path == paths.STDOUT end

--- The text of a failure the engine hands back ({ kind =, message =,
-- csv_partial = }): its message, and where the complete rows are kept.
function M.failure_text(failure)
  if not failure.csv_partial then return failure.message end
  return string.format("%s (the complete rows written are kept in '%s')", failure.message,
                       failure.csv_partial)
end

-- The files runs stopped by a signal kept (<stem>.partial.<ext>), in order.
local kept_on_stop = {}

--- outputs.note_stop_kept(paths): a run stopped by a signal kept `paths`;
-- its own message says so, but a pcall may catch that message and the stop
-- then ends the script elsewhere: the host adds outputs.stop_note() there.
function M.note_stop_kept(list)
  for _, path in ipairs(list) do kept_on_stop[#kept_on_stop + 1] = path end
end

--- outputs.stop_note() -> "kept what was done in 'a', 'b'" (the files of
-- note_stop_kept), or nil when no stopped run kept a file.
function M.stop_note()
  if #kept_on_stop == 0 then return nil end
  return "kept what was done in '" .. table.concat(kept_on_stop, "', '") .. "'"
end

--- The name a failed run keeps a file under: ".partial" before the last
-- extension ("alpha.wav" -> "alpha.partial.wav", "a.wav.json" ->
-- "a.wav.partial.json", "x" -> "x.partial"); the engine's rule, which names
-- the partial CSV files too.
M.partial_name = core.partial_name

return M
