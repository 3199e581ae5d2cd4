-- .luacheckrc: luacheck's settings for the Lua library, the examples, the
-- benchmark scripts and the Busted specs (`make test` runs `luacheck .`).
std = "lua54"
max_line_length = 120
-- `not (x > 0)` is how the library refuses NaN along with the other bad numbers.
ignore = { "581" }
exclude_files = { "build*/**" }
-- The specs quote whole scripts and messages, and their case tables keep one
-- case a line.
files["tests/spec"] = { std = "+busted", max_string_line_length = false, max_line_length = 170 }
