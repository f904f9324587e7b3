#!/bin/sh
# The vtables are the truth: dbus/*.xml must be exactly what revaerd prints.
# On a difference, regenerate with: revaerd --bus-introspect IFACE > dbus/IFACE.xml
set -eu
revaerd="$1"
dir="$2"
status=0
n=0
for xml in "$dir"/com.revaer.Revaer1.*.xml; do
    iface="$(basename "$xml" .xml)"
    n=$((n + 1))
    if "$revaerd" --bus-introspect "$iface" | diff -u "$xml" - >/dev/null; then
        echo "ok $n $iface matches the vtable"
    else
        echo "not ok $n $iface differs from the vtable:"
        "$revaerd" --bus-introspect "$iface" | diff -u "$xml" - | sed 's/^/# /'
        status=1
    fi
done
echo "1..$n"
exit $status
