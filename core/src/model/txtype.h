/* paysync core: TRANSACTION_TYPE enum and matching (spec "TRANSACTION_TYPE"). Thread-safe. */
#ifndef PS_TXTYPE_H
#define PS_TXTYPE_H

#include <stddef.h>

typedef enum ps_txtype {
    PS_TX_FULL_PAYMENT = 0,
    PS_TX_INSTALLMENT_PAYMENT,
    PS_TX_NON_CONTRACT_PAYMENT,
    PS_TX_DISCOUNT,
    PS_TX_REVERSAL,
    PS_TX_ENERGY_CREDIT,
    PS_TX_COUNT
} ps_txtype;

/* Canonical name ("FULL_PAYMENT"); NULL when out of range. Static storage. */
const char *ps_txtype_name(int t);

/* strlen(ps_txtype_name(t)) for a type t, 0 for anything else. */
size_t ps_txtype_name_len(int t);

/* Normalises a value for matching: trimmed, ASCII upper case, runs of spaces, hyphens and
 * underscores become one '_'. Writes at most cap-1 bytes + NUL; returns the full length it
 * needed (so a result >= cap means truncated and cannot match). */
size_t ps_txtype_key(const char *s, size_t len, char *out, size_t cap);

/* The enum for s after normalisation ("Installment payment" -> INSTALLMENT_PAYMENT); -1 when
 * it is none of the six. */
int ps_txtype_parse(const char *s, size_t len);

/* Configured aliases: `from` (normalised like the enum) -> type. */
typedef struct ps_txtype_alias {
    char key[64];
    int type;
} ps_txtype_alias;

/* Parses with aliases first, then the enum; -1 when nothing matches. */
int ps_txtype_parse_with(const char *s, size_t len, const ps_txtype_alias *aliases, size_t n);

#endif
