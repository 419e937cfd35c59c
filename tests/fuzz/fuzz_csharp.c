/*
 * fuzz_csharp.c — fuzz target of the C# subset's translation to Lua
 * (host/xml/xml_csharp.c, jh_cs_to_lua), which import-xml runs on every
 * `C#:param:body` rule.
 *
 * The first byte of an input chooses: bit 0 puts "C#:r:" before the rest
 * (so that most inputs reach the body's parser rather than the envelope).
 * The rest is the expression, up to its first NUL.
 *
 * What must hold: the translation returns 0, -EINVAL or -ENOMEM; a
 * refusal leaves *lua NULL, says something, and points inside the
 * expression (0 to its length); a translation is "lua:r:..." (the same
 * parameter) and passes jh_expr_check as `jobhost validate` checks the
 * imported model, so that what the import writes is never refused later.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "fuzz.h"
#include "xml_csharp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const jh_mloc loc = {"fuzz.yaml", 3, 15};
  char err[512];
  if (size == 0)
    return 0;
  unsigned char mode = data[0];
  const char *prefix = (mode & 1) != 0 ? "C#:r:" : "";
  size_t plen = strlen(prefix);
  char *text = malloc(plen + size);
  if (text == NULL)
    abort();
  memcpy(text, prefix, plen);
  memcpy(text + plen, data + 1, size - 1);
  text[plen + size - 1] = '\0';
  size_t len = strlen(text);

  char *lua = (char *)"untouched";
  size_t at = (size_t)-1;
  err[0] = '\0';
  int rc = jh_cs_to_lua(text, &lua, &at, err, sizeof(err));
  if (rc == -EINVAL || rc == -ENOMEM) {
    if (lua != NULL)
      abort(); /* a refusal that leaves a result */
    if (err[0] == '\0')
      abort(); /* a refusal that says nothing */
    if (rc == -EINVAL && at > len)
      abort(); /* a position outside the expression */
  } else if (rc == 0) {
    /* "C#:" + param + ":" becomes "lua:" + param + ":" */
    const char *colon = strchr(text + 3, ':');
    size_t pl = colon != NULL ? (size_t)(colon - text - 3) : 0;
    if (lua == NULL || colon == NULL || strncmp(lua, "lua:", 4) != 0 ||
        strncmp(lua + 4, text + 3, pl) != 0 || lua[4 + pl] != ':')
      abort(); /* not the Lua form of the same parameter */
    err[0] = '\0';
    int crc = jh_expr_check(NULL, lua, loc, "fuzz-rule", err, sizeof(err));
    if (crc == -EINVAL)
      abort(); /* a translation that validate would refuse */
    if (crc != 0 && crc != -ENOMEM)
      abort();
    free(lua);
  } else {
    abort(); /* a code the header does not promise */
  }
  free(text);
  return 0;
}
