/*
 * xml_read.h — read one XML file with libxml2, safely, and say where each
 * element and attribute is written.
 *
 * Safety (doc/xml-import.md, SECURITY.md):
 *   - the file must be a regular file of at most JH_XML_MAX_BYTES bytes;
 *   - no network access (XML_PARSE_NONET), no XInclude, no DTD loading;
 *   - a document type declaration (<!DOCTYPE ...>) is refused as soon as
 *     the parser meets it, before any entity of its internal subset is
 *     declared: Identity Manager configuration files have none, and
 *     refusing it closes external entities (XXE), external DTDs and
 *     entity expansion ("billion laughs") in one rule. Only the five
 *     predefined entities and character references remain.
 *
 * Places: libxml2 keeps one line per element (the line where its start tag
 * ends). While parsing, the reader also notes the byte offset where each
 * start tag ends; from it, the line and column of the tag's '<' and of
 * each attribute name are found in the file's text. When the input was
 * converted from another encoding the offsets do not match the file, and
 * places fall back to libxml2's line with column 0 (unknown).
 */
#ifndef JH_XML_READ_H
#define JH_XML_READ_H

#include <stddef.h>

#include <libxml/tree.h>

#include "diag.h"

/* Largest XML file read, in bytes (16 MiB). */
#define JH_XML_MAX_BYTES (16L * 1024 * 1024)

/* A line and column, 1-based; column 0 when unknown. */
typedef struct jh_xml_pos {
  int line;
  int column;
} jh_xml_pos;

typedef struct jh_xml_file {
  char *path; /* as given; owned */
  char *text; /* the file's bytes, NUL-terminated; owned */
  size_t len;
  size_t *lines; /* offset of each line's first byte; owned */
  size_t nlines;
  xmlDoc *doc; /* owned */
} jh_xml_file;

/*
 * Read and parse `path` into *f. Every problem is added to diags with the
 * file and its place. Returns 0, JOBHOST_ECONFIG (diags hold the errors)
 * or -ENOMEM. *f is to be cleared with jh_xml_file_clear in every case.
 */
int jh_xml_read(const char *path, jh_xml_file *f, jh_diags *diags);

void jh_xml_file_clear(jh_xml_file *f);

/* Where an element's start tag begins. */
jh_xml_pos jh_xml_node_pos(const jh_xml_file *f, const xmlNode *n);

/* Where an attribute's name is written (its element's place when it
 * cannot be found). */
jh_xml_pos jh_xml_attr_pos(const jh_xml_file *f, const xmlAttr *a);

/* Nonzero when the first bytes of `path` look like XML (optional UTF-8
 * byte order mark and white space, then '<'), or its name ends in ".xml"
 * (any case). A file that cannot be read is not XML. */
int jh_xml_sniff(const char *path);

#endif /* JH_XML_READ_H */
