/*
** l_audio.h: what the binding files share about audio writers (l_audio.c).
*/
#ifndef nm_l_audio_h
#define nm_l_audio_h

#include "bind.h"
#include "engine/audio.h"

#define NM_AUDIO_MT "neuromass.AudioWriter"
#define NM_CSVREADER_MT "neuromass.CsvReader"

/* The writer at index i; raises if it is not one, or is finished or closed. */
nm_audio *nmL_checkaudio(lua_State *L, int i);

void nmL_open_audio(lua_State *L);

#endif
