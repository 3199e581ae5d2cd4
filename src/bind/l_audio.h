/*
** l_audio.h: what the binding files share about audio writers (l_audio.c)
** and results (l_sim.c).
*/
#ifndef nm_l_audio_h
#define nm_l_audio_h

#include "bind.h"
#include "engine/audio.h"

#define NM_AUDIO_MT "neuromass.AudioWriter"
#define NM_CSVREADER_MT "neuromass.CsvReader"

/* The writer at index i; raises if it is not one, or is finished or closed. */
nm_audio *nmL_checkaudio(lua_State *L, int i);

/* The rows of the result at index i (l_sim.c): rows x cols doubles, row-major. */
const double *nmL_result_rows(lua_State *L, int i, size_t *rows, size_t *cols);

void nmL_open_audio(lua_State *L);

#endif
