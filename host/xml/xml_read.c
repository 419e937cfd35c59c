/*
 * xml_read.c — see xml_read.h.
 */
#include "config.h"

#include "xml_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <jobhost/jobhost.h>

/* libxml2 options: no network, line numbers past 65535; nothing that
 * loads or expands (no NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE, HUGE). */
#define PARSE_OPTIONS                                                          \
  (XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA)

/* ---- reading the bytes ---- */

static void cannot_read(jh_diags *d, const char *path, int err) {
  jh_diag_error(d, path, 0, 0, "cannot read the XML file: %s", strerror(err));
}

static void too_big(jh_diags *d, const char *path) {
  jh_diag_error(d, path, 0, 0,
                "XML file larger than %ld bytes (16 MiB), refused: expected "
                "an Identity Manager configuration file",
                (long)JH_XML_MAX_BYTES);
}

/* Read at most JH_XML_MAX_BYTES from fd into f->text (NUL-terminated).
 * Returns 0, -EFBIG, -ENOMEM or -errno. */
static int read_bytes(int fd, size_t hint, jh_xml_file *f) {
  size_t cap = hint + 1, len = 0;
  char *buf;

  if (cap > (size_t)JH_XML_MAX_BYTES + 1)
    cap = (size_t)JH_XML_MAX_BYTES + 1;
  if (cap < 4096)
    cap = 4096;
  buf = malloc(cap + 1);
  if (buf == NULL)
    return -ENOMEM;
  for (;;) {
    ssize_t got;
    if (len == cap) {
      size_t bigger = cap * 2;
      char *grown;
      if (cap > (size_t)JH_XML_MAX_BYTES)
        break; /* one byte past the limit is enough to know */
      if (bigger > (size_t)JH_XML_MAX_BYTES + 1)
        bigger = (size_t)JH_XML_MAX_BYTES + 1;
      grown = realloc(buf, bigger + 1);
      if (grown == NULL) {
        free(buf);
        return -ENOMEM;
      }
      buf = grown;
      cap = bigger;
    }
    got = read(fd, buf + len, cap - len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      int err = errno;
      free(buf);
      return -err;
    }
    if (got == 0)
      break;
    len += (size_t)got;
  }
  if (len > (size_t)JH_XML_MAX_BYTES) {
    free(buf);
    return -EFBIG;
  }
  buf[len] = '\0';
  f->text = buf;
  f->len = len;
  return 0;
}

/* Open and read the file; every refusal is reported. */
static int read_file(const char *path, jh_xml_file *f, jh_diags *d) {
  struct stat st;
  int fd, rc;

  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    cannot_read(d, path, errno);
    return JOBHOST_ECONFIG;
  }
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    cannot_read(d, path, err);
    return JOBHOST_ECONFIG;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    if (S_ISDIR(st.st_mode))
      cannot_read(d, path, EISDIR);
    else
      jh_diag_error(d, path, 0, 0,
                    "cannot read the XML file: not a regular "
                    "file");
    return JOBHOST_ECONFIG;
  }
  if (st.st_size > JH_XML_MAX_BYTES) {
    close(fd);
    too_big(d, path);
    return JOBHOST_ECONFIG;
  }
  rc = read_bytes(fd, (size_t)st.st_size, f);
  close(fd);
  if (rc == -ENOMEM)
    return rc;
  if (rc == -EFBIG) {
    too_big(d, path);
    return JOBHOST_ECONFIG;
  }
  if (rc != 0) {
    cannot_read(d, path, -rc);
    return JOBHOST_ECONFIG;
  }
  return 0;
}

/* Offsets of the first byte of each line. */
static int index_lines(jh_xml_file *f) {
  size_t n = 1, k = 0;
  for (size_t i = 0; i < f->len; i++)
    if (f->text[i] == '\n')
      n++;
  f->lines = malloc(n * sizeof(*f->lines));
  if (f->lines == NULL)
    return -ENOMEM;
  f->lines[k++] = 0;
  for (size_t i = 0; i < f->len; i++)
    if (f->text[i] == '\n')
      f->lines[k++] = i + 1;
  f->nlines = n;
  return 0;
}

/* ---- places ---- */

/* Line and column (in characters) of a byte offset of the file. */
static jh_xml_pos offset_pos(const jh_xml_file *f, size_t off) {
  size_t lo = 0, hi = f->nlines;
  jh_xml_pos pos;
  int col = 1;

  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (f->lines[mid] <= off)
      lo = mid;
    else
      hi = mid;
  }
  for (size_t i = f->lines[lo]; i < off && i < f->len; i++)
    if (((unsigned char)f->text[i] & 0xC0) != 0x80)
      col++;
  pos.line = (int)(lo + 1);
  pos.column = col;
  return pos;
}

/* Byte offset where the parser is (the decoded input's), or -1 when the
 * input is converted from another encoding. */
static long parser_offset(xmlParserCtxtPtr ctxt) {
  xmlParserInputPtr in = ctxt->input;
  if (in == NULL || (in->buf != NULL && in->buf->encoder != NULL))
    return -1;
  return (long)(in->consumed + (unsigned long)(in->cur - in->base));
}

static int is_name_end(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '/' ||
         ch == '>' || ch == '=' || ch == '\0';
}

/* Nonzero when text at p is prefix:name (or name) followed by a name
 * end. */
static int qname_at(const char *p, const xmlChar *prefix, const xmlChar *name) {
  if (prefix != NULL) {
    size_t pl = strlen((const char *)prefix);
    if (strncmp(p, (const char *)prefix, pl) != 0 || p[pl] != ':')
      return 0;
    p += pl + 1;
  }
  size_t nl = strlen((const char *)name);
  return strncmp(p, (const char *)name, nl) == 0 && is_name_end(p[nl]);
}

/* The start tag of n in the file: [*lt, *end] with text[*lt] == '<'.
 * Returns 0, or -1 when its place is unknown. */
static int start_tag(const jh_xml_file *f, const xmlNode *n, size_t *lt,
                     size_t *end) {
  uintptr_t v = (uintptr_t)n->_private;
  size_t off, i;

  if (v == 0 || v - 1 >= f->len)
    return -1;
  off = v - 1;
  if (f->text[off] != '>' && f->text[off] != '/')
    return -1;
  /* '<' cannot appear inside a start tag of a well-formed document */
  for (i = off; i > 0 && f->text[i] != '<'; i--)
    ;
  if (f->text[i] != '<')
    return -1;
  if (!qname_at(f->text + i + 1, n->ns ? n->ns->prefix : NULL, n->name))
    return -1;
  *lt = i;
  *end = off;
  return 0;
}

static jh_xml_pos line_only(const xmlNode *n) {
  jh_xml_pos pos;
  long line = n != NULL ? xmlGetLineNo(n) : 0;
  pos.line = line > 0 && line < INT32_MAX ? (int)line : 0;
  pos.column = 0;
  return pos;
}

jh_xml_pos jh_xml_node_pos(const jh_xml_file *f, const xmlNode *n) {
  size_t lt, end;
  if (n->type == XML_ELEMENT_NODE && start_tag(f, n, &lt, &end) == 0)
    return offset_pos(f, lt);
  return line_only(n);
}

static int is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Offset of the attribute's name in the start tag [i, end], or -1. The
 * tag is well-formed: names, '=', and quoted values. */
static long find_attr(const char *t, size_t i, size_t end, const xmlAttr *a) {
  const xmlChar *prefix = a->ns ? a->ns->prefix : NULL;
  while (i < end && !is_name_end(t[i]))
    i++; /* the element's name */
  while (i < end) {
    size_t name;
    char q;
    while (i < end && is_space(t[i]))
      i++;
    if (i >= end || t[i] == '/' || t[i] == '>')
      return -1;
    name = i;
    while (i < end && !is_name_end(t[i]))
      i++;
    if (qname_at(t + name, prefix, a->name))
      return (long)name;
    while (i < end && t[i] != '"' && t[i] != '\'')
      i++;
    if (i >= end)
      return -1;
    q = t[i++];
    while (i < end && t[i] != q)
      i++;
    i++;
  }
  return -1;
}

jh_xml_pos jh_xml_attr_pos(const jh_xml_file *f, const xmlAttr *a) {
  const xmlNode *el = a->parent;
  size_t lt, end;
  long at;
  if (el == NULL)
    return line_only(NULL);
  if (start_tag(f, el, &lt, &end) != 0)
    return line_only(el);
  at = find_attr(f->text, lt + 1, end, a);
  return offset_pos(f, at >= 0 ? (size_t)at : lt);
}

/* ---- parsing ---- */

typedef struct parse_state {
  jh_xml_file *f;
  jh_diags *diags;
  size_t errors; /* errors libxml2 reported */
  int doctype;   /* a DOCTYPE was met (and parsing stopped) */
  jh_xml_pos doctype_pos;
} parse_state;

static parse_state *state_of(void *ctx) {
  return ((xmlParserCtxtPtr)ctx)->_private;
}

/* libxml2's structured errors, as diagnostics (one line each). */
static void on_error(void *ctx, xmlErrorPtr e) {
  parse_state *st;
  size_t len;
  char *msg;

  if (ctx == NULL || e == NULL)
    return;
  st = state_of(ctx);
  msg = strdup(e->message ? e->message : "malformed XML");
  if (msg == NULL) {
    st->errors++;
    jh_diag_error(st->diags, st->f->path, e->line, 0, "malformed XML");
    return;
  }
  len = strlen(msg);
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
    msg[--len] = '\0';
  if (e->level == XML_ERR_WARNING) {
    jh_diag_add(st->diags, JH_DIAG_WARNING, st->f->path, e->line, e->int2,
                "XML: %s", msg);
  } else {
    st->errors++;
    jh_diag_error(st->diags, st->f->path, e->line, e->int2, "malformed XML: %s",
                  msg);
  }
  free(msg);
}

/* Called when the parser reads "<!DOCTYPE name ...", before the internal
 * subset: note where, and stop. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                       const xmlChar *sys_id) {
  xmlParserCtxtPtr ctxt = ctx;
  parse_state *st = state_of(ctx);
  long off = parser_offset(ctxt);
  static const char mark[] = "<!DOCTYPE";

  (void)name;
  (void)ext_id;
  (void)sys_id;
  st->doctype = 1;
  st->doctype_pos.line = ctxt->input ? ctxt->input->line : 0;
  st->doctype_pos.column = 0;
  if (off >= 0 && (size_t)off <= st->f->len) {
    for (size_t i = (size_t)off; i-- > 0;)
      if (strncmp(st->f->text + i, mark, sizeof(mark) - 1) == 0) {
        st->doctype_pos = offset_pos(st->f, i);
        break;
      }
  }
  xmlStopParser(ctxt);
}

/* The default start-element handler, then note where the start tag
 * ends (as offset + 1 in the element's _private). */
static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nns, const xmlChar **nss,
                     int nattrs, int ndefaulted, const xmlChar **attrs) {
  xmlParserCtxtPtr ctxt = ctx;
  xmlNodePtr before = ctxt->node;
  long off;

  xmlSAX2StartElementNs(ctx, localname, prefix, uri, nns, nss, nattrs,
                        ndefaulted, attrs);
  off = parser_offset(ctxt);
  if (ctxt->node != NULL && ctxt->node != before && off >= 0)
    ctxt->node->_private = (void *)(uintptr_t)(off + 1);
}

static void refuse_doctype(const parse_state *st) {
  jh_diag_error(st->diags, st->f->path, st->doctype_pos.line,
                st->doctype_pos.column,
                "document type declarations (<!DOCTYPE ...>) are refused: "
                "no DTD, external entity or entity expansion is read; "
                "expected an Identity Manager configuration file without "
                "one");
}

static int parse(jh_xml_file *f, jh_diags *diags) {
  parse_state st;
  xmlParserCtxtPtr ctxt;
  int rc = 0;

  memset(&st, 0, sizeof(st));
  st.f = f;
  st.diags = diags;
  xmlInitParser();
  ctxt = xmlCreateMemoryParserCtxt(f->text, (int)f->len);
  if (ctxt == NULL)
    return -ENOMEM;
  ctxt->_private = &st;
  ctxt->sax->serror = on_error;
  ctxt->sax->internalSubset = on_doctype;
  ctxt->sax->externalSubset = NULL;
  ctxt->sax->startElementNs = on_start;
  ctxt->sax->resolveEntity = NULL;
  xmlCtxtUseOptions(ctxt, PARSE_OPTIONS);
  xmlParseDocument(ctxt);
  if (st.doctype) {
    refuse_doctype(&st);
    rc = JOBHOST_ECONFIG;
  } else if (!ctxt->wellFormed || st.errors > 0 || ctxt->myDoc == NULL) {
    if (st.errors == 0)
      jh_diag_error(diags, f->path, 0, 0, "malformed XML");
    rc = JOBHOST_ECONFIG;
  }
  if (rc == 0) {
    f->doc = ctxt->myDoc;
  } else if (ctxt->myDoc != NULL) {
    xmlFreeDoc(ctxt->myDoc);
  }
  ctxt->myDoc = NULL;
  xmlFreeParserCtxt(ctxt);
  return rc;
}

int jh_xml_read(const char *path, jh_xml_file *f, jh_diags *diags) {
  int rc;

  memset(f, 0, sizeof(*f));
  f->path = strdup(path);
  if (f->path == NULL)
    return -ENOMEM;
  rc = read_file(path, f, diags);
  if (rc == 0 && f->len == 0) {
    jh_diag_error(diags, path, 1, 1,
                  "file is empty: expected an Identity "
                  "Manager configuration file (<ConfigurationFile ...>)");
    rc = JOBHOST_ECONFIG;
  }
  if (rc == 0)
    rc = index_lines(f);
  if (rc == 0)
    rc = parse(f, diags);
  return rc;
}

void jh_xml_file_clear(jh_xml_file *f) {
  if (f->doc != NULL)
    xmlFreeDoc(f->doc);
  free(f->path);
  free(f->text);
  free(f->lines);
  memset(f, 0, sizeof(*f));
}

int jh_xml_sniff(const char *path) {
  size_t len = strlen(path);
  unsigned char head[256];
  ssize_t got;
  size_t i = 0;
  int fd;

  if (len >= 4 && strcasecmp(path + len - 4, ".xml") == 0)
    return 1;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return 0;
  do {
    got = read(fd, head, sizeof(head));
  } while (got < 0 && errno == EINTR);
  close(fd);
  if (got <= 0)
    return 0;
  if (got >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
    i = 3;
  while (i < (size_t)got && is_space((char)head[i]))
    i++;
  return i < (size_t)got && head[i] == '<';
}
