/*
 * fuzz_csv.c — fuzz target of the CSV reader (lib/csv.c).
 *
 * The first byte of an input chooses the reading options (separator,
 * header, trim characters, lines to skip, background parsing); the rest
 * is the file. Every record is read to the end or to the first error,
 * and the fields are checked against what the reader promises: each is
 * NUL-terminated, with lengths[i] == strlen(fields[i]).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

static void check_record(const jh_csv_record *rec) {
  for (size_t i = 0; i < rec->nfields; i++)
    if (strlen(rec->fields[i]) != rec->lengths[i])
      abort(); /* a field's length disagrees with its text */
  if (jh_csv_record_nfields(rec) != rec->nfields)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char separators[] = {',', ';', '\t', '|'};
  jh_csv_options opt;
  jh_csv_reader *r = NULL;
  const jh_csv_record *rec;
  const char *path;
  unsigned char mode;
  char err[512];
  int rc;

  if (size == 0)
    return 0;
  mode = data[0];
  memset(&opt, 0, sizeof(opt));
  opt.separator = separators[mode & 3];
  opt.header = (mode >> 2) & 1;
  opt.trim = (mode >> 3) & 1 ? " \t" : NULL;
  opt.skip_lines = (mode >> 4) & 3;
  path = jh_fuzz_file("input.csv", data + 1, size - 1);
  if (jh_csv_reader_open(path, &opt, &r, err, sizeof(err)) != 0)
    return 0;
  if ((mode >> 6) & 1)
    (void)jh_csv_reader_background(r);
  if (jh_csv_reader_header(r) != NULL)
    check_record(jh_csv_reader_header(r));
  while ((rc = jh_csv_read(r, &rec)) == 1) {
    check_record(rec);
    (void)jh_csv_reader_line(r);
  }
  if (rc < 0 && jh_csv_reader_error(r)[0] == '\0')
    abort(); /* an error without a message */
  jh_csv_reader_close(r);
  return 0;
}
