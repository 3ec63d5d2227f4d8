/* Bounded reading of S3's XML answers: the text of one element (<Code>, <Message>,
 * <UploadId>) from the first S3_XML_SCAN bytes of a body, never more. */
#ifndef PS_S3_XML_H
#define PS_S3_XML_H

#include <stddef.h>

#define S3_XML_SCAN 65536

/* Copies the text of the first <tag>...</tag> in body[0..min(len, S3_XML_SCAN)) into out
 * (cap bytes, NUL-terminated, cut at cap - 1; control characters become spaces; the five XML
 * entities are decoded). Returns 1 when found, 0 otherwise (out = ""). */
int s3_xml_text(const char *body, size_t len, const char *tag, char *out, size_t cap);

#endif
