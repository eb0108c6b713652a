#!/usr/bin/env bash
# test_first_run.sh - the first `make` on a machine without the -dev packages
# builds in one invocation: the Makefile installs what is missing
# (deploy/install-deps.sh) before it asks pkg-config for any flag. Without
# root: dpkg-query and pkg-config are stand-ins first in PATH that know no
# package until the stand-in installer (TOA_DEPS_INSTALLER) has run, then
# hand over to the real ones. Builds into a scratch BUILD/BIN (-O0).
source "$(dirname "$0")/../lib.sh"
FAKE=$TOA_TMP/fake-bin
MARK=$TOA_TMP/installed
mkdir -p "$FAKE"
for tool in pkg-config dpkg-query; do
    real=$(command -v "$tool") || { not_ok "$tool is installed"; toa_done; }
    cat >"$FAKE/$tool" <<EOF
#!/bin/sh
[ -e "$MARK" ] && exec "$real" "\$@"
echo "$tool (stand-in): nothing is installed yet" >&2
exit 1
EOF
    chmod +x "$FAKE/$tool"
done
cat >"$FAKE/installer" <<EOF
#!/bin/sh
echo "\$@" >>"$TOA_TMP/installer.args"
[ -z "\${NO_INSTALL:-}" ] && touch "$MARK"
exit 0
EOF
chmod +x "$FAKE/installer"

# first_make LOG GOAL...: make in the repository with the stand-ins, building
# into $TOA_TMP. Prints make's exit status.
first_make () {
    local log=$1; shift
    PATH=$FAKE:$PATH TOA_DEPS_INSTALLER=$FAKE/installer make -C "$TOA_ROOT" --no-print-directory \
        -j2 BUILD="$TOA_TMP/build" BIN="$TOA_TMP/bin" OPT=-O0 "$@" >"$TOA_TMP/$log" 2>&1
    echo $?
}

# 1. The installer installs nothing: make stops before compiling, saying why.
rc=$(NO_INSTALL=1 first_make broken.log all)
check_eq "packages still missing after the install step: make fails" 2 "$rc"
check "... saying pkg-config does not know the libraries" grep -q 'pkg-config does not know libzmq' "$TOA_TMP/broken.log"
check "... before compiling anything" bash -c "! grep -q '^  CC' '$TOA_TMP/broken.log'"
rm -f "$TOA_TMP/installer.args"

# 2. One `make all` installs, then builds everything.
rc=$(first_make first.log all)
check_eq "first make all on a machine without the packages: exit 0" 0 "$rc"
check "the install step ran once, for the -dev packages" \
    test "$(grep -c 'libzmq3-dev.*libmicrohttpd-dev' "$TOA_TMP/installer.args")" = 1
check "no undefined reference" bash -c "! grep -q 'undefined reference' '$TOA_TMP/first.log'"
for program in toa toa-broker toa-worker toa-scorer toa-simllm; do
    check "bin/$program is built" test -x "$TOA_TMP/bin/$program"
done
check "the built simulator runs" bash -c "'$TOA_TMP/bin/toa-simllm' --write-problems 1 | jq -e .gold_answer >/dev/null"

# 3. A second make installs nothing and finds nothing to do.
rc=$(first_make second.log all)
check_eq "second make all: exit 0" 0 "$rc"
check_eq "... without installing again" 1 "$(wc -l <"$TOA_TMP/installer.args")"
check "... and without compiling again" bash -c "! grep -q '^  CC' '$TOA_TMP/second.log'"
toa_done
