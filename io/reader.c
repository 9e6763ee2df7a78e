/* placeholder: being written */
typedef int placeholder_reader_t;
