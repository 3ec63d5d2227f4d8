/* paysync store: which sink plugin names are stores, for the config parser (a leaf: includes
 * nothing of the core, so that config.c needs no more of the store than this). The rest of
 * the store API is store.h. */
#ifndef PS_STORE_KIND_H
#define PS_STORE_KIND_H

/* The plugin name of the SQLite backend's sink. */
#define PS_SQLITE_PLUGIN "sqlite"
/* The plugin name of the PostgreSQL backend's sink. */
#define PS_POSTGRES_PLUGIN "postgres"

/* 1 when plugin names a store's sink (one of the built-in backends of store.h), else 0. */
int ps_store_kind_known(const char *plugin);

/* The stores' plugin names for messages ("sqlite or postgres"); static storage. */
const char *ps_store_kinds(void);

#endif
