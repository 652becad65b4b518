/* A stand-in winget.exe for the Windows tier (tests/windows/test_winget.py), compiled at test time:
 *     x86_64-w64-mingw32-gcc -municode -O2 -o winget.exe winget_standin.c -lshell32 -ladvapi32
 *
 * It records what it was handed and answers as winget would, driven by environment variables:
 *   WINGET_STANDIN_RECORD  folder: commandline.txt (the whole command line, UTF-8), optionfile.txt (the path
 *                          after --optionfile in the --override value) and options.txt (a byte copy of that
 *                          file, or nothing when it could not be opened)
 *   WINGET_STANDIN_EXIT    the exit code (winget's HRESULT, e.g. 0x8A150008; strtoul base 0), default 0
 *   WINGET_STANDIN_OUTPUT  a file whose bytes go to stdout as they are (winget writes the OEM code page)
 *   WINGET_STANDIN_BASE    when set and the code means "installed" (0, 0x8A150109, 0x8A150061), the EDB
 *                          installer's registry keys for PostgreSQL 17 with this Base Directory, and the port
 *                          from the option file's serverport
 */
#include <windows.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static wchar_t *joined(const wchar_t *folder, const wchar_t *name) {
    size_t size = wcslen(folder) + wcslen(name) + 2;
    wchar_t *path = malloc(size * sizeof(wchar_t));
    swprintf(path, size, L"%ls\\%ls", folder, name);
    return path;
}

static void write_utf8(const wchar_t *path, const wchar_t *text) {
    int size = WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL);
    char *bytes = malloc(size);
    WideCharToMultiByte(CP_UTF8, 0, text, -1, bytes, size, NULL, NULL);
    FILE *out = _wfopen(path, L"wb");
    if (out) {
        fwrite(bytes, 1, strlen(bytes), out);
        fclose(out);
    }
    free(bytes);
}

/* The path after --optionfile inside the --override value, quoted or not; NULL when there is none. */
static wchar_t *option_file(int argc, wchar_t **argv) {
    for (int i = 0; i + 1 < argc; i++) {
        if (wcscmp(argv[i], L"--override") != 0) continue;
        wchar_t *found = wcsstr(argv[i + 1], L"--optionfile");
        if (!found) return NULL;
        found += wcslen(L"--optionfile");
        while (*found == L' ') found++;
        wchar_t end = L' ';
        if (*found == L'"') {
            end = L'"';
            found++;
        }
        wchar_t *path = _wcsdup(found);
        wchar_t *stop = wcschr(path, end);
        if (stop) *stop = 0;
        return path;
    }
    return NULL;
}

/* The option file's bytes (NUL-terminated), or NULL when it cannot be read. */
static char *read_all(const wchar_t *path, size_t *length) {
    FILE *in = _wfopen(path, L"rb");
    if (!in) return NULL;
    char *data = malloc(65536);
    *length = fread(data, 1, 65535, in);
    data[*length] = 0;
    fclose(in);
    return data;
}

static void copy_to_stdout(const wchar_t *path) {
    size_t length = 0;
    char *data = read_all(path, &length);
    if (!data) return;
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD written = 0;
    WriteFile(out, data, (DWORD)length, &written, NULL);
    free(data);
}

static void set_string(HKEY key, const wchar_t *name, const wchar_t *value) {
    RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)value, (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
}

static int register_install(const wchar_t *base, DWORD port) {
    HKEY key;
    wchar_t data[MAX_PATH * 2];
    REGSAM access = KEY_WRITE | KEY_WOW64_64KEY;
    if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\PostgreSQL\\Installations\\postgresql-x64-17", 0, NULL,
                        0, access, NULL, &key, NULL) != ERROR_SUCCESS)
        return 1;
    set_string(key, L"Base Directory", base);
    swprintf(data, MAX_PATH * 2, L"%ls\\data", base);
    set_string(key, L"Data Directory", data);
    set_string(key, L"Service ID", L"postgresql-x64-17");
    set_string(key, L"Super User", L"postgres");
    set_string(key, L"Version", L"17.2-1");
    RegCloseKey(key);
    if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\PostgreSQL\\Services\\postgresql-x64-17", 0, NULL, 0,
                        access, NULL, &key, NULL) != ERROR_SUCCESS)
        return 1;
    RegSetValueExW(key, L"Port", 0, REG_DWORD, (const BYTE *)&port, sizeof(port));
    RegCloseKey(key);
    return 0;
}

static DWORD port_of(const char *options) {
    const char *found = options ? strstr(options, "serverport=") : NULL;
    return found ? (DWORD)strtoul(found + strlen("serverport="), NULL, 10) : 5432;
}

int wmain(void) {
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    const wchar_t *record = _wgetenv(L"WINGET_STANDIN_RECORD");
    const wchar_t *exit_text = _wgetenv(L"WINGET_STANDIN_EXIT");
    const wchar_t *output = _wgetenv(L"WINGET_STANDIN_OUTPUT");
    const wchar_t *base = _wgetenv(L"WINGET_STANDIN_BASE");
    DWORD code = exit_text ? (DWORD)wcstoul(exit_text, NULL, 0) : 0;
    wchar_t *options_path = option_file(argc, argv);
    size_t length = 0;
    char *options = options_path ? read_all(options_path, &length) : NULL;

    if (record) {
        wchar_t *path = joined(record, L"commandline.txt");
        write_utf8(path, GetCommandLineW());
        free(path);
        path = joined(record, L"optionfile.txt");
        write_utf8(path, options_path ? options_path : L"");
        free(path);
        path = joined(record, L"options.txt");
        FILE *out = _wfopen(path, L"wb");
        if (out) {
            if (options) fwrite(options, 1, length, out);
            fclose(out);
        }
        free(path);
    }
    if (output) copy_to_stdout(output);
    if (base && (code == 0 || code == 0x8A150109 || code == 0x8A150061)) {
        if (register_install(base, port_of(options)) != 0) return 2;
    }
    return (int)code;
}
