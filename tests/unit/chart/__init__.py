"""The Helm chart, rendered with the real helm binary."""
