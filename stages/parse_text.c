/* placeholder: being written */
typedef int placeholder_parse_text_t;
