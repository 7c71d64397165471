

x:1Identity