/* nis/schema.h — a table that describes a configuration struct field by field: name, type, default, range,
 * help.  Everything that reads or writes a configuration goes through it: the defaults, the range checks, the
 * text form of each value (config.json, checkpoint metadata) and parsing it back, the CLI's flags and --help.
 * So a configuration is spelled once, in its table (src/train/config.c for the trainer's).
 */
#ifndef NIS_SCHEMA_H
#define NIS_SCHEMA_H

#include "nis/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NIS_FIELD_INT,    /* int64_t */
    NIS_FIELD_REAL,   /* double, finite */
    NIS_FIELD_BOOL,   /* bool */
    NIS_FIELD_ENUM,   /* int: an index into choices */
} nis_field_type;

typedef struct {
    const char *name;             /* key in config.json and checkpoints (snake_case); CLI flag --name-with-dashes */
    nis_field_type type;
    size_t offset;                /* offsetof(struct, member) */
    double def;                   /* default (BOOL: 0 or 1; ENUM: the index) */
    double min, max;              /* accepted range of INT and REAL values (inclusive) */
    const char *const *choices;   /* ENUM: the names, NULL-terminated */
    const char *help;             /* one line */
    const char *flag;             /* NULL, or the CLI switch when it is not --name: for a BOOL, a switch that sets
                                   * the opposite of the default ("clean-output" for noisy_output) */
    const char *requires;         /* NULL, or the name of a BOOL field that must be true when this one is given */
    unsigned scope;               /* bit mask: which front ends list it (the owning table's meaning) */
} nis_field;

typedef struct {
    const char *name;             /* names the configuration in messages ("train config") */
    const nis_field *fields;
    int count;
} nis_schema;

/* Every field of obj (a struct of the schema's type) set to its default. */
void nis_schema_defaults(const nis_schema *s, void *obj);
/* The field called name, or NULL. */
const nis_field *nis_schema_find(const nis_schema *s, const char *name);
/* f's value in obj as text: decimal integers, reals with 17 significant digits (they parse back exactly),
 * "true"/"false", the choice's name. */
void nis_field_format(const nis_field *f, const void *obj, char *buf, size_t size);
/* Parse text (the forms above; BOOL also "1"/"0") into f's member of obj, after checking its range.
 * NIS_EINVAL with one line in err naming the field and the value; obj is unchanged then. */
nis_status nis_field_parse(const nis_field *f, void *obj, const char *text, char *err, size_t errlen);
/* Check every field of obj against its range or choices; the first violation as one line in err
 * ("<schema>: <name> is X, outside [min, max]").  NIS_EINVAL or NIS_OK. */
nis_status nis_schema_check(const nis_schema *s, const void *obj, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
