/* placeholder: being written */
typedef int placeholder_zstd_stream_t;
