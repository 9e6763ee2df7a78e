/* placeholder: being written */
typedef int placeholder_progress_t;
