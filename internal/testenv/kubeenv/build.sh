#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into $1 (a cache
# directory) unless they are already there. Kubernetes publishes its staging
# modules (k8s.io/api, k8s.io/client-go, ...) as v0.Y.Z; k8s.io/kubernetes
# requires them as v0.0.0, so a wrapper module replaces each with v0.Y.Z.
# etcd's server module has replace directives, which `go install mod@version`
# refuses, so it gets a wrapper module too.
set -euo pipefail
out=${1:?usage: build.sh CACHE_DIR}
kube_version=${KUBE_VERSION:-v1.34.4}
etcd_version=${ETCD_VERSION:-v3.6.16}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$out/kube-apiserver-$kube_version" ]; then
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
  echo "building kube-apiserver $kube_version (several minutes, once)" >&2
  GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kube-apiserver@$kube_version" >/dev/null 2>&1 || true
  # The -X flags stamp the version a release build reports on /version;
  # without them it says v0.0.0-master.
  v=k8s.io/component-base/version
  GOFLAGS=-mod=mod go build -trimpath \
    -ldflags="-s -X $v.gitVersion=$kube_version -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean" \
    -o "$out/kube-apiserver-$kube_version.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$out/kube-apiserver-$kube_version.tmp" "$out/kube-apiserver-$kube_version"
fi

if [ ! -x "$out/etcd-$etcd_version" ]; then
  mkdir "$work/etcd"
  cd "$work/etcd"
  echo "building etcd $etcd_version (about a minute, once)" >&2
  go mod init causeway.local/etcd-build >/dev/null 2>&1
  GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$etcd_version" >/dev/null 2>&1 || true
  GOFLAGS=-mod=mod go build -trimpath -ldflags=-s -o "$out/etcd-$etcd_version.tmp" go.etcd.io/etcd/server/v3
  mv "$out/etcd-$etcd_version.tmp" "$out/etcd-$etcd_version"
fi
ln -sf "kube-apiserver-$kube_version" "$out/kube-apiserver"
ln -sf "etcd-$etcd_version" "$out/etcd"
