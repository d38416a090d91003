/* A FastCGI responder built on libfcgi, for the tests of command pools: any
 * program that accepts on descriptor 0 (FCGI_LISTENSOCK_FILENO), as
 * spawn-fcgi starts programs. It answers every request with text/plain
 * lines of what it sees:
 *   pid=PID          the process that served the request
 *   argv=A B ...     its arguments after argv[0]
 *   cwd=DIR          its current directory
 *   env=VALUE        $COMMAND_TEST_VALUE ("-" when unset)
 *   home=VALUE       $HOME ("-" when unset: a cleared environment)
 *   fds=0,1,2,3      its open descriptors (3: the accepted connection)
 *   script_name=, path_info=, query=, document_root=   FastCGI params
 * A QUERY_STRING "ms=N" makes it sleep N milliseconds first (a busy
 * worker). It writes one line to stderr when it starts, which pyfpm logs.
 */
#include <dirent.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *orDash(const char *value) {
    return value != NULL ? value : "-";
}

static void putDescriptors(FCGX_Stream *out) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        FCGX_FPrintF(out, "fds=?\n");
        return;
    }
    /* Descriptors are few and small: a bitmap up to 1024 prints them in order. */
    char seen[1024] = {0};
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        int fd = atoi(entry->d_name);
        if (fd != dirfd(dir) && fd >= 0 && fd < (int)sizeof(seen)) seen[fd] = 1;
    }
    closedir(dir);
    FCGX_FPrintF(out, "fds=");
    int first = 1;
    for (int fd = 0; fd < (int)sizeof(seen); ++fd) {
        if (!seen[fd]) continue;
        if (!first) FCGX_PutChar(',', out);
        FCGX_FPrintF(out, "%d", fd);
        first = 0;
    }
    FCGX_FPrintF(out, "\n");
}

int main(int argc, char **argv) {
    FCGX_Request r;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0) return 1;
    fprintf(stderr, "responder %d started\n", (int)getpid());
    fflush(stderr);
    while (FCGX_Accept_r(&r) >= 0) {
        const char *query = FCGX_GetParam("QUERY_STRING", r.envp);
        if (query != NULL && strncmp(query, "ms=", 3) == 0) {
            long ms = atol(query + 3);
            struct timespec wait = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&wait, NULL);
        }
        char cwd[4096];
        if (getcwd(cwd, sizeof(cwd)) == NULL) strcpy(cwd, "?");
        FCGX_FPrintF(r.out, "Content-Type: text/plain\r\n\r\n");
        FCGX_FPrintF(r.out, "pid=%d\nargv=", (int)getpid());
        for (int i = 1; i < argc; ++i) {
            if (i > 1) FCGX_PutChar(' ', r.out);
            FCGX_PutS(argv[i], r.out);
        }
        FCGX_FPrintF(r.out, "\ncwd=%s\nenv=%s\nhome=%s\n", cwd, orDash(getenv("COMMAND_TEST_VALUE")),
                     orDash(getenv("HOME")));
        putDescriptors(r.out);
        FCGX_FPrintF(r.out, "script_name=%s\npath_info=%s\nquery=%s\ndocument_root=%s\n",
                     orDash(FCGX_GetParam("SCRIPT_NAME", r.envp)), orDash(FCGX_GetParam("PATH_INFO", r.envp)),
                     orDash(query), orDash(FCGX_GetParam("DOCUMENT_ROOT", r.envp)));
        FCGX_Finish_r(&r);
    }
    return 0;
}
