// Package nodeagent is a test-only kubelet and container runtime: it
// registers a Node with a real apiserver and runs the Pods bound to it as
// local processes, so Deployments, Services and the Gateway API
// conformance suite work on a machine without Docker or a kubelet.
//
// Node. Start creates the Node (InternalIP = node address, capacity,
// daemonEndpoints.kubeletEndpoint.Port = the kubelet API port) and renews
// its Lease in kube-node-lease and its Ready condition every 10 s, as the
// node-lifecycle controller expects of a live node. t's cleanup stops every
// Pod process by PID, removes the network and deletes the Node.
//
// Network. One network namespace ("cwn-<pid>-<n>-node") holds a Linux
// bridge. The root namespace joins it by a veth whose root end holds the
// node address (the first host address of Config.Network, e.g.
// 198.18.64.1/22). Each Pod gets a namespace ("cwn-<pid>-<n>-pod-<ns>-<name>")
// with eth0, a veth into the bridge, an address from .2 up (handed out
// round the prefix, so a freed address is reused as late as possible:
// neighbours may still cache the old Pod's MAC) and a default route via
// the node address. Pods
// reach each other and the node address over L2; the test process reaches
// Pod IPs through its veth. No forwarding, no iptables, no host sysctls:
// a Pod's securityContext.sysctls (net.* only) are written inside its
// namespace. Names carry the creating PID: a later run removes what a
// killed run left behind (processes in them included).
//
// Pods. An informer on spec.nodeName feeds one worker per Pod: address and
// namespace, sysctls, volumes under Config.Dir/pods/<uid>/volumes (configMap
// and secret with items and modes, downwardAPI, emptyDir, projected with
// serviceAccountToken from the TokenRequest API, bound to the Pod and
// rewritten at 80% of its lifetime), then one loop per container.
// Volumes are retried (a Secret may come later) with the reason on the
// containers' Waiting state.
//
// Containers. The image's repository (tag and digest dropped) picks a
// binary from Config.Images; an unknown image leaves the container Waiting
// with ErrImagePull naming it. A container command must name that binary
// (base name) or be absent; args and $(VAR) expansion follow Kubernetes,
// env supports value, fieldRef, configMapKeyRef, secretKeyRef and envFrom.
// Each run is `nsenter --net=<pod netns> sh -c <script>` started by Go in a
// fresh mount and UTS namespace (mounts private). The script builds the
// container root on a tmpfs at Config.Dir/.../root-<run>: every top-level
// directory of the host is rbind-mounted (symlinks recreated), /tmp and
// /dev/shm are fresh tmpfs, the image binary is bind-mounted at
// /.causeway/bin/<name> (so its host directory needs no permissions). A
// volume mountPath that exists on the host is mounted over; one that does
// not is created under an overlay of its deepest existing ancestor whose
// upper layer is on the container's tmpfs. So nothing is written on the
// host outside Config.Dir, and everything vanishes with the mount
// namespace. Then `chroot` and, with runAsUser/runAsGroup set, `setpriv`
// (fsGroup and supplementalGroups as groups; volume files are owned by the
// Pod's runAsUser/fsGroup). The chain execs all the way, so the PID the
// agent holds is the container's. Stdout and stderr go to a log file per
// run in the CRI format (timestamp, stream, line), capped at 10 MiB
// keeping the newer half; the current and the previous run's logs are
// kept.
//
// Status. Readiness probes (httpGet, tcpSocket, exec) with their delays and
// thresholds; no probe means ready once running. The Pod status (phase,
// IPs, startTime, conditions, containerStatuses) is merge-patched with the
// Pod's UID as precondition. restartPolicy is followed with a backoff from
// 1 s doubling to 20 s. Not implemented: liveness and startup probes,
// resource limits, image pulls, ConfigMap/Secret updates reaching
// running Pods, /etc/hosts and resolv.conf of their own (containers see
// the host's); Pods with init containers or hostNetwork wait with a
// CreateContainerConfigError saying so.
//
// Deletion. A Pod with a deletionTimestamp gets SIGTERM per container,
// SIGKILL after its grace period (at most 5 s), its namespace and volumes
// removed, then is deleted with grace period 0 and a UID precondition, as
// a kubelet does. A Pod deleted outright is cleaned up the same way.
//
// Kubelet API. HTTPS (self-signed) on the node address, port 10250:
// GET /containerLogs/{namespace}/{pod}/{container} with follow, previous,
// timestamps, sinceSeconds, sinceTime, tailLines, limitBytes and stream.
// The apiserver's pods/log reaches it through the Node's InternalIP and
// daemon endpoint port and, without --kubelet-certificate-authority, does
// not verify the certificate; no apiserver flag is needed.
//
// Everything needs root. Without it, or without ip, nsenter, mount,
// chroot or setpriv, Start skips the test, or fails it when
// CAUSEWAY_REQUIRE_E2E=1.
package nodeagent
