/* A libfcgi responder for interop tests of pyfpm's fcgi/ client. It accepts on
 * descriptor 0 (FCGI_LISTENSOCK_FILENO), as spawn-fcgi starts programs, and
 * answers by PATH_INFO:
 *   /params     every FastCGI param, re-encoded as name-value pairs (body)
 *   /echo       FCGI_STDIN back, byte for byte, with Content-Length
 *   /stderr     "ok" on FCGI_STDOUT and two lines on FCGI_STDERR
 *   /bigheader  a response header whose value is QUERY_STRING bytes long
 */
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>

static void putLength(FCGX_Stream *out, size_t n) {
    if (n < 128) {
        FCGX_PutChar((int)n, out);
        return;
    }
    FCGX_PutChar((int)((n >> 24) | 0x80), out);
    FCGX_PutChar((int)((n >> 16) & 0xff), out);
    FCGX_PutChar((int)((n >> 8) & 0xff), out);
    FCGX_PutChar((int)(n & 0xff), out);
}

static void params(FCGX_Request *r) {
    FCGX_FPrintF(r->out, "Content-Type: application/octet-stream\r\n\r\n");
    for (char **e = r->envp; *e != NULL; ++e) {
        const char *eq = strchr(*e, '=');
        size_t nameLength = (size_t)(eq - *e);
        size_t valueLength = strlen(eq + 1);
        putLength(r->out, nameLength);
        putLength(r->out, valueLength);
        FCGX_PutStr(*e, (int)nameLength, r->out);
        FCGX_PutStr(eq + 1, (int)valueLength, r->out);
    }
}

static void echo(FCGX_Request *r) {
    size_t capacity = 1 << 16, size = 0;
    char *body = malloc(capacity);
    int n;
    while ((n = FCGX_GetStr(body + size, (int)(capacity - size), r->in)) > 0) {
        size += (size_t)n;
        if (size == capacity) {
            capacity *= 2;
            body = realloc(body, capacity);
        }
    }
    /* FCGX_FPrintF has a printf of its own that knows no %zu. */
    FCGX_FPrintF(r->out, "Content-Type: application/octet-stream\r\nContent-Length: %lu\r\n\r\n", (unsigned long)size);
    FCGX_PutStr(body, (int)size, r->out);
    free(body);
}

int main(void) {
    FCGX_Request r;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) return 1;
    while (FCGX_Accept_r(&r) >= 0) {
        const char *path = FCGX_GetParam("PATH_INFO", r.envp);
        const char *query = FCGX_GetParam("QUERY_STRING", r.envp);
        if (path == NULL) path = "";
        if (strcmp(path, "/params") == 0) {
            params(&r);
        } else if (strcmp(path, "/echo") == 0) {
            echo(&r);
        } else if (strcmp(path, "/stderr") == 0) {
            FCGX_FPrintF(r.err, "first stderr line\n");
            FCGX_FPrintF(r.out, "Content-Type: text/plain\r\n\r\nok");
            FCGX_FPrintF(r.err, "second stderr line\n");
        } else if (strcmp(path, "/bigheader") == 0) {
            size_t n = query != NULL ? (size_t)strtoul(query, NULL, 10) : 0;
            FCGX_FPrintF(r.out, "Content-Type: text/plain\r\nX-Big: ");
            for (size_t i = 0; i < n; ++i) FCGX_PutChar('h', r.out);
            FCGX_FPrintF(r.out, "\r\n\r\nbig");
        } else {
            FCGX_FPrintF(r.out, "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such path");
        }
        FCGX_Finish_r(&r);
    }
    return 0;
}
