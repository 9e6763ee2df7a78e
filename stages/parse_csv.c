/* placeholder: being written */
typedef int placeholder_parse_csv_t;
