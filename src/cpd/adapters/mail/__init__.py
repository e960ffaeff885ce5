"""Mail: rendering emails from templates, and the mailers that send them."""
