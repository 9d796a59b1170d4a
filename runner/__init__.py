"""GitOps runner for Proxmox + Talos Kubernetes clusters."""
