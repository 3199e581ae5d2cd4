--- The audio file formats by extension: the one table that says which file
-- names are audio (audio/plan.lua picks the container from it) and so which
-- names are an audio file's default sidecar (audio/sidecar.lua).
local M = {}

--- formats.container[ext] -> the container ("wav", "flac", "ogg") of a file
-- name's extension, lower case (".WAV" is looked up as "wav"), or nil.
M.container = { wav = "wav", wave = "wav", flac = "flac", ogg = "ogg", oga = "ogg" }

--- formats.max_channels[container] -> the most channels the container holds.
M.max_channels = { wav = 1024, flac = 8, ogg = 255 }

return M
