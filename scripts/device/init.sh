#!/bin/busybox sh
# PID 1 of the emulated device (scripts/emulated-device.sh): mounts the
# kernel file systems, brings up the forwarded network when there is one,
# runs the command as root with its output on hvc0, writes its exit status
# to hvc1 and powers off. Errors of its own go to the serial console, which
# the host prints when the device reports no status.
/bin/busybox --install -s
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
hostname -F /etc/hostname
ip link set lo up

# The host at 10.0.2.100 (QEMU's guestfwd); no DNS, no other route out.
if [ -e /etc/emulated-device/network ]; then
    while read -r m; do insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"; done </lib/modules/order
    i=0
    while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    ip link set eth0 up
    ip addr add 10.0.2.15/24 dev eth0
    ip route add default via 10.0.2.2
fi

# The share is a copy unpacked from the initramfs: made read-only so that
# nothing written there is mistaken for the host's directory.
if [ -d /share ]; then
    mount --bind /share /share && mount -o remount,bind,ro /share
fi

# No \n -> \r\n on the output channel: the host prints the bytes as they come.
stty -F /dev/hvc0 raw -echo
cd /root
echo "init: running the command"
sh /etc/emulated-device/command </dev/null >/dev/hvc0 2>&1
rc=$?
echo "init: the command exited $rc; powering off"
echo "$rc" >/dev/hvc1
sync
poweroff -f
