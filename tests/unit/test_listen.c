/* test_listen.c - common/util: toa_resolve_listen, the host:port a TCP
 * server binds (the broker's /metrics, the simulator): the address, its
 * port, and a reason for what is not host:port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"

static void
test_resolves (void **state)
{
    (void) state;
    struct addrinfo *address = NULL;
    char why[200] = "";
    int port = -1;
    assert_int_equal (toa_resolve_listen ("127.0.0.1:9464", &address, &port, why, sizeof why), 0);
    assert_non_null (address);
    assert_int_equal (address->ai_family, AF_INET);
    assert_int_equal (port, 9464);
    freeaddrinfo (address);
    assert_int_equal (toa_resolve_listen ("[::1]:0", &address, &port, why, sizeof why), 0);
    assert_int_equal (address->ai_family, AF_INET6);
    assert_int_equal (port, 0);
    freeaddrinfo (address);
}

static void
test_refuses (void **state)
{
    (void) state;
    struct addrinfo *address = NULL;
    char why[200] = "";
    int port = -1;
    assert_int_equal (toa_resolve_listen ("nope", &address, &port, why, sizeof why), -1);
    assert_null (address);
    assert_string_equal (why, "\"nope\" is not host:port");
    assert_int_equal (toa_resolve_listen ("127.0.0.1:70000", &address, &port, why, sizeof why),
                      -1);
    assert_null (address);
    assert_int_equal (toa_resolve_listen (NULL, &address, &port, why, sizeof why), -1);
    assert_string_equal (why, "\"\" is not host:port");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_resolves),
        cmocka_unit_test (test_refuses),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
