/*
** matrix_read.c: reading a numeric matrix from a text file without header
** (the connectomes and the empirical BOLD/FC data of nm.datasets, a user's
** own Cmat and Dmat): one row per non-blank line, cells separated by commas
** (CSV) or, when the first row has no comma, by runs of spaces or tabs (TVB's
** weights.txt and tract_lengths.txt, numpy.savetxt's default), every row as
** wide as the first, a UTF-8 byte-order mark at the start skipped, lines
** whose first non-blank byte is '#' skipped (np.savetxt's header and footer,
** which np.loadtxt skips); each cell read as Lua's tonumber reads it
** (nm_matrix_read in nm.h), and the line of each row (for messages about
** the matrix later, nm.datasets.read_matrix's).
*/
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Reads the whole file into a NUL-terminated buffer; NULL with *err filled. */
static char *slurp(const char *path, size_t *len, nm_error *err)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    nm_fail(err, NM_EIO, "cannot read '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  int why = 0;                       /* errno of a failed read (a directory: EISDIR) */
  while (buf) {
    errno = 0;
    n += fread(buf + n, 1, cap - 1 - n, f);
    why = errno;
    if (n < cap - 1) break;
    size_t bigger_cap = nm_grow_cap(cap, 0, cap, 1, 1);
    char *bigger = bigger_cap ? realloc(buf, bigger_cap) : NULL;
    if (!bigger) { free(buf); buf = NULL; break; }
    buf = bigger;
    cap = bigger_cap;
  }
  int failed = ferror(f);
  fclose(f);
  if (!buf) {
    nm_fail(err, NM_ENOMEM, "cannot read '%s': %s", path, nm_strerror(NM_ENOMEM));
    return NULL;
  }
  if (failed) {
    free(buf);
    nm_fail(err, NM_EIO, "cannot read '%s': %s", path, why ? strerror(why) : "read error");
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* A cell [s, e) as Lua 5.4's tonumber reads it: a decimal or hexadecimal
** integer, signed or not (of at most 2^53 in magnitude, so that the double holds it
** exactly) is an integer, anything else strtod reads whole (surrounding
** white space allowed; "inf" and "nan" refused, as Lua refuses them; a NUL
** byte refused: the C string would end there and hide what follows). */
static int parse_cell(const char *s, const char *e, double *v, unsigned char *is_int)
{
  char tmp[128];
  while (s < e && is_space(*s)) s++;
  while (e > s && is_space(e[-1])) e--;
  size_t n = (size_t)(e - s);
  if (n == 0 || n >= sizeof tmp || memchr(s, '\0', n)) return 0;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  const char *p = tmp + (tmp[0] == '-' || tmp[0] == '+');      /* (a sign, as Lua's l_str2int) */
  int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
  size_t digits = strspn(p + 2 * hex, hex ? "0123456789abcdefABCDEF" : "0123456789");
  if (digits > 0 && p[2 * hex + digits] == '\0') {
    errno = 0;
    long long i = strtoll(tmp, NULL, hex ? 16 : 10);
    if (errno == 0 && i >= -(1LL << 53) && i <= (1LL << 53)) {
      *v = (double)i;
      *is_int = 1;
      return 1;
    }
  }
  if (strpbrk(tmp, "nN")) return 0;
  char *end;
  *v = strtod(tmp, &end);
  *is_int = 0;
  return *end == '\0' && isfinite(*v);
}

/* The cell [s, e) for a message, without the white space around it (a
** Windows line end's \r is no part of the last cell): its first 40 bytes, a
** byte that is not printable ASCII written \xHH (a binary file, a byte-order
** mark). */
static const char *shown(const char *s, const char *e, char out[4 * 40 + 1])
{
  while (s < e && is_space(*s)) s++;
  while (e > s && is_space(e[-1])) e--;
  char *o = out;
  for (const char *p = s; p < e && p < s + 40; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c < 0x7f) *o++ = (char)c;
    else o += sprintf(o, "\\x%02X", c);
  }
  *o = '\0';
  return out;
}

/* Does the bad cell [s, e), column c (from 0) of the first row, look like
** a header's: a name (a letter or a quote first; not nan or inf), or an
** empty first cell (pandas' to_csv with its index: ",a,b")? */
static int header_like(const char *s, const char *e, size_t c)
{
  while (s < e && is_space(*s)) s++;
  while (e > s && is_space(e[-1])) e--;
  if (s == e) return c == 0;
  if (*s == '"' || *s == '\'') return 1;
  if (!isalpha((unsigned char)*s)) return 0;
  char low[4] = { 0 };
  for (size_t k = 0; k < 3 && s + k < e; k++) low[k] = (char)tolower((unsigned char)s[k]);
  return strcmp(low, "nan") != 0 && strcmp(low, "inf") != 0;
}

/* Does the next line after `eol` that is not blank nor a comment (up to
** `end`) start with a name too, as every row of a file with a label column
** does (TVB's centres.txt: "Precentral_L 71.3 133.9 173.3")? */
static int next_row_named(const char *eol, const char *end)
{
  for (const char *s = eol; s < end;) {
    const char *q = s + (*s == '\n');
    const char *next = memchr(q, '\n', (size_t)(end - q));
    if (!next) next = end;
    while (q < next && is_space(*q)) q++;
    if (q < next && *q != '#') {
      const char *e = q;
      while (e < next && !is_space(*e) && *e != ',') e++;
      return header_like(q, e, 1);
    }
    s = next;
  }
  return 0;
}

/* Is the cell [s, e) a number in quotes ("0.5", '1'), as some spreadsheets
** and R's write.csv write? */
static int quoted_number(const char *s, const char *e)
{
  while (s < e && is_space(*s)) s++;
  while (e > s && is_space(e[-1])) e--;
  double v;
  unsigned char is_int;
  return e - s >= 3 && (*s == '"' || *s == '\'') && e[-1] == *s && parse_cell(s + 1, e - 1, &v, &is_int);
}

/* What a bad cell [s, e), column c (from 0) of row `rows` (from 0) ending at
** eol, probably is, for its message (up to `end`; `last`: the row's last
** cell; `spaced`: a file of cells separated by spaces): "" when nothing fits. */
static const char *bad_cell_hint(const char *s, const char *e, size_t c, size_t rows, int last, int spaced,
                                 const char *eol, const char *end)
{
  const char *t = s, *te = e;
  while (t < e && is_space(*t)) t++;
  while (te > t && is_space(te[-1])) te--;
  if (t == e && last && c > 0) return " (the line ends with ',': remove it)";
  if (quoted_number(s, e)) return " (a number in quotes: write the numbers without them)";
  if (memchr(s, ';', (size_t)(e - s)))
    return " (cells separated by ';', as a spreadsheet writes where the decimal mark is a comma: save "
           "with ',' between cells and '.' in numbers)";
  if (rows == 0 && c == 0 && header_like(s, e, c)) {   /* (a text cell after a number: no header) */
    if (next_row_named(eol, end))
      return " (every row starts with a name: a label column, as TVB's centres.txt, is not a matrix; read "
             "such a file with io.lines)";
    return " (the file holds numbers only: a header line, such as pandas' to_csv writes, must go or start "
           "with #)";
  }
  if (memchr(t, '#', (size_t)(te - t)))
    return " (a '#' after a number is no comment: a comment is a line of its own, starting with #)";
  for (const char *q = t; !spaced && q < te; q++)           /* "4 5 6", or decimal commas: "0,5 1,2" */
    if (is_space(*q))
      return " (cells separated by spaces in a file whose first row has commas: one separator for the "
             "whole file, ',' between cells and '.' in numbers)";
  return "";
}

/* The end of the cell starting at `cell` on a line ending at eol: the next
** comma (CSV) or the next white space (`spaced`); *next: where the following
** cell starts, NULL when this cell is the row's last. */
static const char *cell_end(const char *cell, const char *eol, int spaced, const char **next)
{
  if (!spaced) {
    const char *comma = memchr(cell, ',', (size_t)(eol - cell));
    *next = comma ? comma + 1 : NULL;
    return comma ? comma : eol;
  }
  const char *end = cell;
  while (end < eol && !is_space(*end)) end++;
  const char *after = end;
  while (after < eol && is_space(*after)) after++;
  *next = after < eol ? after : NULL;
  return end;
}

int nm_matrix_read(const char *path, nm_matrix *out, nm_error *err)
{
  memset(out, 0, sizeof *out);
  size_t len;
  char *buf = slurp(path, &len, err);
  if (!buf) return err ? err->status : NM_EIO;
  size_t cap = 0, n = 0, cols = 0, rows = 0, line_cap = 0;
  double *v = NULL;
  unsigned char *is_int = NULL;
  long *lines = NULL;
  long line = 0;
  int status = NM_OK, spaced = 0;
  char *start = buf;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) start += 3;   /* a UTF-8 byte-order mark: no data */
  for (char *s = start; s < buf + len;) {
    char *eol = memchr(s, '\n', (size_t)(buf + len - s));
    if (!eol) eol = buf + len;
    line++;
    const char *q = s;
    while (q < eol && (is_space(*q))) q++;
    if (q < eol && *q != '#') {                  /* not blank, not a comment */
      if (rows == 0) spaced = memchr(q, ',', (size_t)(eol - q)) == NULL;
      size_t c = 0;
      for (const char *cell = spaced ? q : s; cell; c++) {
        const char *next, *end = cell_end(cell, eol, spaced, &next);
        if (n == cap) {
          size_t ncap = nm_grow_cap(cap, 1024, n, 1, sizeof *v);
          double *nv = ncap ? realloc(v, ncap * sizeof *v) : NULL;
          if (nv) v = nv;
          unsigned char *ni = nv ? realloc(is_int, ncap) : NULL;
          if (ni) is_int = ni;
          if (!nv || !ni) {
            status = nm_fail(err, NM_ENOMEM, "cannot read '%s': %s", path, nm_strerror(NM_ENOMEM));
            goto done;
          }
          cap = ncap;
        }
        if (!parse_cell(cell, end, &v[n], &is_int[n])) {
          char text[4 * 40 + 1];
          status = nm_fail(err, NM_EINVAL, "%s:%ld: column %zu: bad number '%s'%s", path, line,
                           c + 1, shown(cell, end, text),
                           bad_cell_hint(cell, end, c, rows, next == NULL, spaced, eol, buf + len));
          goto done;
        }
        n++;
        cell = next;
      }
      if (rows == 0) cols = c;
      else if (c != cols) {
        status = nm_fail(err, NM_EINVAL, "%s:%ld: %zu values, the first row has %zu", path, line,
                         c, cols);
        goto done;
      }
      if (rows == line_cap) {
        size_t ncap = nm_grow_cap(line_cap, 64, rows, 1, sizeof *lines);
        long *nl = ncap ? realloc(lines, ncap * sizeof *lines) : NULL;
        if (!nl) {
          status = nm_fail(err, NM_ENOMEM, "cannot read '%s': %s", path, nm_strerror(NM_ENOMEM));
          goto done;
        }
        lines = nl;
        line_cap = ncap;
      }
      lines[rows++] = line;
    }
    s = eol + 1;
  }
done:
  free(buf);
  if (status != NM_OK) {
    free(v);
    free(is_int);
    free(lines);
    return status;
  }
  out->rows = rows;
  out->cols = cols;
  out->v = v;
  out->is_int = is_int;
  out->line = lines;
  return NM_OK;
}

void nm_matrix_free(nm_matrix *m)
{
  if (!m) return;
  free(m->v);
  free(m->is_int);
  free(m->line);
  m->v = NULL;
  m->is_int = NULL;
  m->line = NULL;
  m->rows = m->cols = 0;
}
