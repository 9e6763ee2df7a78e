/* placeholder: being written */
typedef int placeholder_workers_t;
