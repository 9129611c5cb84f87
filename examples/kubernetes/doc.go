// Package kubernetes holds the manifests that install Causeway into a
// management cluster (kustomization.yaml), prepare workload clusters
// (workload-cluster/) and run a client proxy on each of their nodes
// (client-proxy/); see README.md. Its test decodes every manifest
// strictly with the typed API schemes, so a misspelt field fails CI rather
// than a user's kubectl apply. workload-cluster/ is also embedded
// (WorkloadCluster) for `causeway create-remote-secret`.
package kubernetes
