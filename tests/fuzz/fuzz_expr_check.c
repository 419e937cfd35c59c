/*
 * fuzz_expr_check.c — fuzz target of jh_expr_check (lib/expr.c): the
 * forms of expressions, the scan of Lua bodies for the names the sandbox
 * refuses and their syntax check.
 *
 * The first byte of an input chooses: bit 0 gives the binding
 * "manager.mail", bit 1 prepends "lua:p:" to the rest (so that most
 * inputs reach the Lua scan). The rest is the expression, up to its
 * first NUL. The check must accept, or refuse with a message naming
 * the file given.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const jh_mloc loc = {"fuzz.yaml", 3, 15};
  char err[512];
  if (size == 0)
    return 0;
  unsigned char mode = data[0];
  const char *prefix = (mode & 2) != 0 ? "lua:p:" : "";
  size_t plen = strlen(prefix);
  char *text = malloc(plen + size);
  if (text == NULL)
    abort();
  memcpy(text, prefix, plen);
  memcpy(text + plen, data + 1, size - 1);
  text[plen + size - 1] = '\0';
  err[0] = '\0';
  int rc = jh_expr_check((mode & 1) != 0 ? "manager.mail" : NULL, text, loc,
                         "fuzz-rule", err, sizeof(err));
  free(text);
  if (rc == -EINVAL && strncmp(err, "fuzz.yaml:", 10) != 0)
    abort(); /* a refusal that does not say where */
  if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
    abort(); /* a code the header does not promise */
  return 0;
}
