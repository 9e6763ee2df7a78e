/* test_transform.c - header and --columns mapping picks the right columns, refuses what COPY would, and builds quoted COPY statements. */
#include "../../stages/transform.h"

#include <CUnit/Basic.h>
#include <string.h>

static struct table_column cols[4];
static struct table_info tbl;

static void setup_table(void)
{
	memset(cols, 0, sizeof cols);
	memset(&tbl, 0, sizeof tbl);
	strcpy(cols[0].enc.name, "id");
	cols[0].enc.kind = ENC_INT4;
	strcpy(cols[1].enc.name, "Name");
	cols[1].enc.kind = ENC_TEXT;
	strcpy(cols[2].enc.name, "we\"ird");
	cols[2].enc.kind = ENC_NONE;
	strcpy(cols[3].enc.name, "total");
	cols[3].enc.kind = ENC_NUMERIC;
	cols[3].generated = true;
	tbl.cols = cols;
	tbl.ncols = 4;
	strcpy(tbl.sql_name, "public.t");
	strcpy(tbl.display, "public.t");
}

static struct field f(const char *s)
{
	return (struct field){s, (uint32_t)strlen(s), false};
}

/* Header names map by exact name, then by a unique case-insensitive match, in input order. */
static void test_header_by_name(void)
{
	setup_table();
	struct field names[2] = {f("name"), f("id")};
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_header(&m, &tbl, names, 2, "in.csv", &e), 0);
	CU_ASSERT_EQUAL(m.nfields, 2);
	CU_ASSERT_EQUAL(m.col[0], 1);
	CU_ASSERT_EQUAL(m.col[1], 0);
	CU_ASSERT_TRUE(m.all_binary);
	CU_ASSERT_STRING_EQUAL(m.copy_bin_sql, "COPY public.t (\"Name\", \"id\") FROM STDIN (FORMAT binary)");
	CU_ASSERT_STRING_EQUAL(m.copy_txt_sql, "COPY public.t (\"Name\", \"id\") FROM STDIN");
	transform_free(&m);
}

/* Unknown, repeated, empty and generated header columns are configuration errors naming the file. */
static void test_header_errors(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	struct field unknown[2] = {f("id"), f("nope")};
	CU_ASSERT_EQUAL(transform_map_header(&m, &tbl, unknown, 2, "in.csv", &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "\"nope\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "in.csv"));
	struct field twice[2] = {f("id"), f("ID")};
	CU_ASSERT_EQUAL(transform_map_header(&m, &tbl, twice, 2, "in.csv", &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	struct field gen[1] = {f("total")};
	CU_ASSERT_EQUAL(transform_map_header(&m, &tbl, gen, 1, "in.csv", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "generated"));
	struct field empty[1] = {{"", 0, true}};
	CU_ASSERT_EQUAL(transform_map_header(&m, &tbl, empty, 1, "in.csv", &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
}

/* Without a list every column that is not generated is a target, in table order; a type without an encoder turns binary off. */
static void test_list_default(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	CU_ASSERT_EQUAL(m.nfields, 3);
	CU_ASSERT_FALSE(m.all_binary);
	CU_ASSERT_STRING_EQUAL(m.copy_txt_sql, "COPY public.t (\"id\", \"Name\", \"we\"\"ird\") FROM STDIN");
	transform_free(&m);
}

/* --columns takes names in order, trims spaces around them, and refuses unknown or empty names. */
static void test_list_given(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, " Name ,id", &e), 0);
	CU_ASSERT_EQUAL(m.nfields, 2);
	CU_ASSERT_EQUAL(m.col[0], 1);
	CU_ASSERT_EQUAL(m.col[1], 0);
	transform_free(&m);
	CU_ASSERT_EQUAL(transform_map_list(&m, &tbl, "id,,Name", &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_EQUAL(transform_map_list(&m, &tbl, "id,zzz", &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "zzz"));
}

/* A record with too few fields names the first missing column; too many gets COPY's message. */
static void test_check_fields(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, "id,Name", &e), 0);
	char msg[128];
	const char *col = NULL;
	CU_ASSERT_EQUAL(transform_check_fields(&m, &tbl, 2, msg, sizeof msg, &col), 0);
	CU_ASSERT_EQUAL(transform_check_fields(&m, &tbl, 1, msg, sizeof msg, &col), -1);
	CU_ASSERT_STRING_EQUAL(msg, "missing data for column \"Name\"");
	CU_ASSERT_STRING_EQUAL(col, "Name");
	CU_ASSERT_EQUAL(transform_check_fields(&m, &tbl, 3, msg, sizeof msg, &col), -1);
	CU_ASSERT_STRING_EQUAL(msg, "extra data after last expected column");
	CU_ASSERT_PTR_NULL(col);
	transform_free(&m);
}

/* Column lookup prefers the exact name and refuses an ambiguous case-insensitive one. */
static void test_find_column(void)
{
	setup_table();
	strcpy(cols[3].enc.name, "name");
	CU_ASSERT_EQUAL(transform_find_column(&tbl, "name", 4), 3);
	CU_ASSERT_EQUAL(transform_find_column(&tbl, "Name", 4), 1);
	CU_ASSERT_EQUAL(transform_find_column(&tbl, "NAME", 4), -1);
	CU_ASSERT_EQUAL(transform_find_column(&tbl, "ID", 2), 0);
}

/* Upserts stage the loaded columns with each record's index, merge a range of records with ON CONFLICT on the key (update sets the other loaded columns, the last record of the range wins, ignore keeps the first), and refuse a key that is not loaded. */
static void test_upsert(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, "id,Name", &e), 0);
	CU_ASSERT_EQUAL_FATAL(transform_set_upsert(&m, &tbl, " id ", true, &e), 0);
	CU_ASSERT_STRING_EQUAL(m.copy_bin_sql,
			       "COPY pg_temp.edonu_stage (\"id\", \"Name\", edonu_rec) FROM STDIN (FORMAT binary)");
	CU_ASSERT_STRING_EQUAL(m.copy_txt_sql, "COPY pg_temp.edonu_stage (\"id\", \"Name\", edonu_rec) FROM STDIN");
	CU_ASSERT_PTR_NOT_NULL(strstr(m.stage_sql, "ADD COLUMN edonu_rec integer NOT NULL"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.stage_sql, "CREATE TEMP TABLE edonu_stage"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql, "ON CONFLICT (\"id\") DO UPDATE SET \"Name\" = EXCLUDED.\"Name\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql, "ORDER BY \"id\", edonu_rec DESC"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql,
				      "edonu_rec OPERATOR(pg_catalog.>=) $1::pg_catalog.int4 AND edonu_rec "
				      "OPERATOR(pg_catalog.<) $2::pg_catalog.int4 AND (\"id\" IS NULL)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql,
				      "DELETE FROM pg_temp.edonu_stage WHERE edonu_rec OPERATOR(pg_catalog.>=) "
				      "$1::pg_catalog.int4 AND edonu_rec OPERATOR(pg_catalog.<) $2::pg_catalog.int4"));
	transform_free(&m);
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, "id,Name", &e), 0);
	CU_ASSERT_EQUAL_FATAL(transform_set_upsert(&m, &tbl, "id,name", true, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql, "DO NOTHING"));
	transform_free(&m);
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, "id,Name", &e), 0);
	CU_ASSERT_EQUAL_FATAL(transform_set_upsert(&m, &tbl, "id", false, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql, "DO NOTHING"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.merge_sql, "ORDER BY \"id\", edonu_rec)"));
	transform_free(&m);
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, "id", &e), 0);
	CU_ASSERT_EQUAL(transform_set_upsert(&m, &tbl, "Name", false, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_EQUAL(transform_set_upsert(&m, &tbl, "nope", false, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nope"));
	transform_free(&m);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("transform", NULL, NULL);
	CU_add_test(s, "header by name", test_header_by_name);
	CU_add_test(s, "header errors", test_header_errors);
	CU_add_test(s, "default list", test_list_default);
	CU_add_test(s, "given list", test_list_given);
	CU_add_test(s, "field count", test_check_fields);
	CU_add_test(s, "find column", test_find_column);
	CU_add_test(s, "upsert statements", test_upsert);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
