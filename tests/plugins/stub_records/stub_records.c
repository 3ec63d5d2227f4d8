/* Test plugin "stub_records": the stub provider's payments as keyed records (record shape,
 * typed values, nested paths), for the record-shape mapping tests. See plugins/stub/stub.c. */
#define STUB_RECORDS 1
#include "../../../plugins/stub/stub.c"
