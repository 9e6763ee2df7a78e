/* placeholder: being written */
typedef int placeholder_sink_pg_t;
