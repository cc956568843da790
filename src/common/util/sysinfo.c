/* sysinfo.c: dmidecode's output as libvirt's <sysinfo type='smbios'> document.
 *
 * libvirt does not parse dmidecode by lines: for each section it finds the title, then
 * each field's "Name: " by searching forward from there, so a field missing from its
 * section is taken from a later one. The answer must be libvirt's, so this does the
 * same. */
#include "sysinfo.h"

#include <string.h>

const char *const sv_sysinfo_dmidecode_args[] = {"-q", "-t", "0,1,2,3,4,11,17", NULL};

/* One entry of an element: the name libvirt prints and the dmidecode field it is
 * read from. */
typedef struct {
    const char *entry;
    const char *field; /* with its ": " */
} SysinfoField;

typedef struct {
    const char *element;
    const char *title;
    gboolean repeats; /* every occurrence of the title is an element */
    const SysinfoField *fields;
} SysinfoSection;

static const SysinfoField bios_fields[] = {
    {"vendor", "Vendor: "}, {"version", "Version: "},
    {"date", "Release Date: "}, {"release", "BIOS Revision: "}, {NULL, NULL},
};
static const SysinfoField system_fields[] = {
    {"manufacturer", "Manufacturer: "}, {"product", "Product Name: "},
    {"version", "Version: "}, {"serial", "Serial Number: "}, {"uuid", "UUID: "},
    {"sku", "SKU Number: "}, {"family", "Family: "}, {NULL, NULL},
};
static const SysinfoField board_fields[] = {
    {"manufacturer", "Manufacturer: "}, {"product", "Product Name: "},
    {"version", "Version: "}, {"serial", "Serial Number: "}, {"asset", "Asset Tag: "},
    {"location", "Location In Chassis: "}, {NULL, NULL},
};
static const SysinfoField chassis_fields[] = {
    {"manufacturer", "Manufacturer: "}, {"version", "Version: "},
    {"serial", "Serial Number: "}, {"asset", "Asset Tag: "}, {"sku", "SKU Number: "},
    {NULL, NULL},
};
static const SysinfoField processor_fields[] = {
    {"socket_destination", "Socket Designation: "}, {"type", "Type: "},
    {"family", "Family: "}, {"manufacturer", "Manufacturer: "},
    {"signature", "Signature: "}, {"version", "Version: "},
    {"external_clock", "External Clock: "}, {"max_speed", "Max Speed: "},
    {"status", "Status: "}, {"serial_number", "Serial Number: "},
    {"part_number", "Part Number: "}, {NULL, NULL},
};
static const SysinfoField memory_fields[] = {
    {"size", "Size: "}, {"form_factor", "Form Factor: "}, {"locator", "Locator: "},
    {"bank_locator", "Bank Locator: "}, {"type", "Type: "},
    {"type_detail", "Type Detail: "}, {"speed", "Speed: "},
    {"manufacturer", "Manufacturer: "}, {"serial_number", "Serial Number: "},
    {"part_number", "Part Number: "}, {NULL, NULL},
};

/* libvirt's order of elements. */
static const SysinfoSection sections[] = {
    {"bios", "BIOS Information", FALSE, bios_fields},
    {"system", "System Information", FALSE, system_fields},
    {"baseBoard", "Base Board Information", TRUE, board_fields},
    {"chassis", "Chassis Information", FALSE, chassis_fields},
    {"processor", "Processor Information", TRUE, processor_fields},
    {"memory_device", "Memory Device", TRUE, memory_fields},
};

/* The value of the first `field` after `from`, its trailing blanks dropped; NULL when
 * there is none, it is blank, or its line never ends. (transfer full) */
static char *
field_value(const char *from, const char *field)
{
    const char *cur = strstr(from, field);
    const char *eol;

    if (!cur)
        return NULL;
    cur += strlen(field);
    eol = strchr(cur, '\n');
    if (!eol)
        return NULL;
    while (eol > cur && g_ascii_isspace(eol[-1]))
        eol--;
    return eol > cur ? g_strndup(cur, eol - cur) : NULL;
}

static void
append_entry(GString *out, const char *name, const char *value)
{
    g_autofree char *text = g_markup_escape_text(value, -1);

    g_string_append_printf(out, "    <entry name='%s'>%s</entry>\n", name, text);
}

/* One element read from `from` (just after its title), appended to out unless it has
 * no field. A memory device without a module counts as empty, as in libvirt. */
static void
append_section(GString *out, const SysinfoSection *sec, const char *from)
{
    g_autoptr(GString) body = g_string_new(NULL);

    if (g_str_equal(sec->element, "memory_device")) {
        const char *at = strstr(from, "Size: ");
        const char *eol = at ? strchr(at, '\n') : NULL;

        /* libvirt compares the raw value (blanks kept) with "No Module Installed". */
        if (eol && (gsize)(eol - at - 6) == strlen("No Module Installed") &&
            strncmp(at + 6, "No Module Installed", eol - at - 6) == 0)
            return;
    }
    for (const SysinfoField *f = sec->fields; f->entry; f++) {
        g_autofree char *v = field_value(from, f->field);

        if (v)
            append_entry(body, f->entry, v);
    }
    if (body->len == 0)
        return;
    g_string_append_printf(out, "  <%s>\n%s  </%s>\n", sec->element, body->str, sec->element);
}

/* OEM strings (type 11): every "String N: value" after the title, in order. libvirt
 * runs dmidecode again for a value with a dot in it (dmidecode prints a newline in a
 * string as a dot); this keeps the dotted text. */
static void
append_oem_strings(GString *out, const char *output)
{
    const char *cur = strstr(output, "OEM Strings");

    if (!cur)
        return;
    g_string_append(out, "  <oemStrings>\n");
    while ((cur = strstr(cur, "String "))) {
        const char *eol;
        g_autofree char *text = NULL;

        cur += strlen("String ");
        eol = strchr(cur, '\n');
        if (!eol)
            break;
        while (g_ascii_isdigit(*cur))
            cur++;
        if (*cur != ':')
            break; /* libvirt: "Malformed output of dmidecode" */
        cur += 2;
        if (cur > eol)
            break;
        {
            const char *end = eol;

            while (end > cur && g_ascii_isspace(end[-1]))
                end--;
            if (end > cur) {
                g_autofree char *raw = g_strndup(cur, end - cur);

                text = g_markup_escape_text(raw, -1);
                g_string_append_printf(out, "    <entry>%s</entry>\n", text);
            }
        }
        cur = eol;
    }
    g_string_append(out, "  </oemStrings>\n");
}

char *
sv_sysinfo_format_dmidecode(const char *output)
{
    g_autoptr(GString) body = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(sections); i++) {
        const SysinfoSection *sec = &sections[i];
        const char *at = strstr(output, sec->title);

        while (at) {
            append_section(body, sec, sec->repeats ? at + strlen(sec->title) : at);
            if (!sec->repeats)
                break;
            at = strstr(at + strlen(sec->title), sec->title);
        }
    }
    append_oem_strings(body, output);
    if (body->len == 0)
        return g_strdup("<sysinfo type='smbios'/>\n");
    return g_strdup_printf("<sysinfo type='smbios'>\n%s</sysinfo>\n", body->str);
}
