/*
 * csv.h — streaming RFC 4180 CSV reader and atomic CSV writer, as used by
 * the CSV export settings (Separator, Encoding UTF-8 with or without BOM,
 * NumberOfLinesToSkip, ValuesToTrim).
 *
 * Functions return 0 (or a count) on success and a negative errno value
 * on failure. No global state: readers and writers may be used from any
 * number of threads as long as each object is used by one at a time.
 *
 * Reading rules:
 *  - a UTF-8 BOM at the very start of the file is skipped;
 *  - then skip_lines physical lines are skipped without being parsed;
 *  - records end with CRLF, LF or a lone CR; the last line may lack one;
 *  - quoted fields may hold separators, doubled quotes ("") and line
 *    ends (embedded newlines); text after a closing quote other than a
 *    separator, a line end or a trim character is an error, so is a quote
 *    inside an unquoted field (except after leading trim characters);
 *  - trim characters are stripped from both ends of unquoted values only;
 *  - the whole file must be valid UTF-8 and must not hold NUL bytes, so
 *    that every field is a NUL-terminated string;
 *  - completely empty lines are skipped (they are not records).
 *
 * Memory: the reader reads through a fixed-size buffer; only the storage
 * of the current record grows, up to the size of the largest record. In
 * the background (jh_csv_reader_background, jh_csv_writer_background) two
 * blocks of 1 MiB, or of the largest record, are added.
 */
#ifndef JH_CSV_H
#define JH_CSV_H

#include <stddef.h>

typedef struct jh_csv_options {
  char separator;      /* ASCII field separator; '\0' means ',' */
  unsigned skip_lines; /* NumberOfLinesToSkip: physical lines to skip */
  const char *trim;    /* ValuesToTrim: characters to strip; NULL none */
  int header;          /* 1: the first record is the header */
} jh_csv_options;

/* One record. All pointers belong to the reader and stay valid until the
 * next jh_csv_read or jh_csv_reader_close on it. fields[i] is
 * NUL-terminated and lengths[i] == strlen(fields[i]). */
typedef struct jh_csv_record {
  size_t nfields;
  const char *const *fields;
  const size_t *lengths;
} jh_csv_record;

typedef struct jh_csv_reader jh_csv_reader;
typedef struct jh_csv_writer jh_csv_writer;

/* Open path for reading with opt (NULL: all defaults). With opt->header
 * the header record is read at once (a file without any record is then
 * an error, -ENODATA). On failure *out is NULL and err (if not NULL)
 * receives a message naming the file. On success the caller owns *out
 * and frees it with jh_csv_reader_close. The reader keeps a copy of path
 * and of opt->trim. */
int jh_csv_reader_open(const char *path, const jh_csv_options *opt,
                       jh_csv_reader **out, char *err, size_t errsize);

/* Read the next record: 1 and *rec set (owned by the reader, valid until
 * the next read), 0 at end of file, or a negative errno (-EILSEQ for
 * malformed data) with a message in jh_csv_reader_error. Errors are
 * sticky: later reads return the same error. */
int jh_csv_read(jh_csv_reader *r, const jh_csv_record **rec);

/* The header record (owned by the reader, valid until close), or NULL
 * when the options did not ask for one. */
const jh_csv_record *jh_csv_reader_header(const jh_csv_reader *r);

/* Physical line (1-based, counting skipped lines and the header) where
 * the last record returned by jh_csv_read started. */
unsigned long jh_csv_reader_line(const jh_csv_reader *r);

/* Message of the last error ("" if none), e.g.
 * "hr.csv:12: unterminated quoted field (opened at line 12)". */
const char *jh_csv_reader_error(const jh_csv_reader *r);

/* Bytes of memory currently held by the reader (its buffers). */
size_t jh_csv_reader_memory(const jh_csv_reader *r);

/* From now on, parse ahead in a thread of the reader: the records come
 * from blocks it fills (two of 1 MiB at most in memory) while the caller
 * works on the previous ones. Records, lines and errors are the same as
 * without it; jh_csv_reader_memory is then a bound. 0, or a negative
 * errno when the thread cannot start (the reader then goes on in the
 * caller's thread). */
int jh_csv_reader_background(jh_csv_reader *r);

/* Close and free r (NULL is allowed). */
void jh_csv_reader_close(jh_csv_reader *r);

/* Number of fields of rec: the caller compares it with the header's to
 * find short and long rows (the reader accepts both). */
size_t jh_csv_record_nfields(const jh_csv_record *rec);

/* The suffix of the file a writer writes until it commits. */
#define JH_CSV_TEMP_SUFFIX ".tmp"

/* Start writing path: the data goes to path + ".tmp" (created or
 * truncated, mode 0666 & ~umask) until jh_csv_writer_commit renames it.
 * separator '\0' means ','. The caller owns *out and must end it with
 * exactly one of jh_csv_writer_commit or jh_csv_writer_abort. */
int jh_csv_writer_open(const char *path, char separator, jh_csv_writer **out);

/* Write one record of n NUL-terminated fields (a NULL field is empty),
 * ended by CRLF. A field is quoted only when it holds the separator, a
 * quote, CR or LF, or starts or ends with a space or a tab; a record made
 * of one empty field is written as "" so that it is not an empty line. */
int jh_csv_write_record(jh_csv_writer *w, const char *const *fields, size_t n);

/* Same with explicit lengths (lengths NULL: strlen of each field). */
int jh_csv_write_record_n(jh_csv_writer *w, const char *const *fields,
                          const size_t *lengths, size_t n);

/* From now on, format and write the records in a thread of the writer:
 * jh_csv_write_record only copies each record into a block (two blocks of
 * 1 MiB at most in memory), so that the caller's work and the writing
 * overlap. A write error shows at a later jh_csv_write_record or at
 * commit. 0, or a negative errno when the thread cannot start (the writer
 * then goes on in the caller's thread). */
int jh_csv_writer_background(jh_csv_writer *w);

/* Flush and fsync everything written so far to the temporary file,
 * without renaming it: the file is then whole on disk under path +
 * ".tmp", for a caller that renames it later (jh_csv_writer_commit) and
 * must know the data is durable first. 0 or a negative errno (sticky). */
int jh_csv_writer_sync(jh_csv_writer *w);

/* Flush, fsync and rename the temporary file to path, then fsync its
 * folder. Always frees w. On a failure before the rename the temporary
 * file is removed and path is left as it was; a failure to fsync the
 * folder is reported with the complete file already in place. */
int jh_csv_writer_commit(jh_csv_writer *w);

/* Discard everything written: close and unlink the temporary file, free
 * w (NULL is allowed). path is left as it was. */
void jh_csv_writer_abort(jh_csv_writer *w);

#endif /* JH_CSV_H */
