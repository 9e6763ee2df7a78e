/* placeholder: being written */
typedef int placeholder_summary_t;
