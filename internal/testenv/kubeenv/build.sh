#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and
# coredns from the Go module proxy into $1 (a cache directory), each unless
# it is already there. Files are named with their version (kube-apiserver-
# v1.37.2) and reached through unversioned symlinks (kube-apiserver).
#
# Kubernetes publishes its staging modules (k8s.io/api, k8s.io/client-go,
# ...) as v0.Y.Z; k8s.io/kubernetes requires them as v0.0.0, so a wrapper
# module replaces each with v0.Y.Z; the three kube binaries share it (one
# download, one dependency graph). etcd's server module has replace
# directives, which `go install mod@version` refuses, so it gets a wrapper
# module too; coredns has none but is built the same way, for a versioned
# output name.
set -euo pipefail
out=${1:?usage: build.sh CACHE_DIR}
kube_version=${KUBE_VERSION:-v1.37.2}
etcd_version=${ETCD_VERSION:-v3.7.0}
coredns_version=${COREDNS_VERSION:-v1.14.6}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kube_cmds=()
for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$out/$cmd-$kube_version" ] || kube_cmds+=("$cmd")
done
if [ ${#kube_cmds[@]} -gt 0 ]; then
  mkdir "$work/kube"
  cd "$work/kube"
  minor=${kube_version#v1.}
  minor=${minor%%.*}
  staging_version=v0.${kube_version#v1.}
  go mod init causeway.local/kube-build >/dev/null 2>&1
  go mod edit -require "k8s.io/kubernetes@$kube_version"
  # Every staging module k8s.io/kubernetes requires at v0.0.0.
  modfile=$(go mod download -json "k8s.io/kubernetes@$kube_version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  for m in $(awk '/^\tk8s.io\/[^ ]+ v0.0.0$/ {print $1}' "$modfile"); do
    go mod edit -replace "$m=$m@$staging_version"
  done
  pkgs=()
  for cmd in "${kube_cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$cmd@$kube_version"); done
  GOFLAGS=-mod=mod go get "${pkgs[@]}" >/dev/null 2>&1 || true
  # The -X flags stamp the version a release build reports on /version;
  # without them it says v0.0.0-master.
  v=k8s.io/component-base/version
  for cmd in "${kube_cmds[@]}"; do
    echo "building $cmd $kube_version (once; kube-apiserver about 6 minutes, the controller-manager and scheduler about 1 each after it)" >&2
    GOFLAGS=-mod=mod go build -trimpath \
      -ldflags="-s -X $v.gitVersion=$kube_version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
      -o "$out/$cmd-$kube_version.tmp" "k8s.io/kubernetes/cmd/$cmd"
    mv "$out/$cmd-$kube_version.tmp" "$out/$cmd-$kube_version"
  done
fi

# build_plain NAME MODULE VERSION PACKAGE MINUTES [LDFLAGS]: a wrapper
# module that requires MODULE@VERSION, building PACKAGE into
# $out/NAME-VERSION; MINUTES is for the progress message.
build_plain() {
  local name=$1 module=$2 version=$3 pkg=$4 minutes=$5 ldflags=${6:-}
  [ -x "$out/$name-$version" ] && return 0
  mkdir "$work/$name"
  cd "$work/$name"
  echo "building $name $version (about $minutes, once)" >&2
  go mod init "causeway.local/$name-build" >/dev/null 2>&1
  GOFLAGS=-mod=mod go get "$module@$version" >/dev/null 2>&1 || true
  GOFLAGS=-mod=mod go build -trimpath -ldflags="-s $ldflags" -o "$out/$name-$version.tmp" "$pkg"
  mv "$out/$name-$version.tmp" "$out/$name-$version"
}
build_plain etcd go.etcd.io/etcd/server/v3 "$etcd_version" go.etcd.io/etcd/server/v3 "a minute"
# GitCommit is what `coredns -version` prints beside the version.
build_plain coredns github.com/coredns/coredns "$coredns_version" github.com/coredns/coredns "3.5 minutes" \
  "-X github.com/coredns/coredns/coremain.GitCommit=$coredns_version"

for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
  ln -sf "$cmd-$kube_version" "$out/$cmd"
done
ln -sf "etcd-$etcd_version" "$out/etcd"
ln -sf "coredns-$coredns_version" "$out/coredns"
