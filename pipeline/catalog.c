/* placeholder: being written */
typedef int placeholder_catalog_t;
