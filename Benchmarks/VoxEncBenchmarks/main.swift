print("voxenc-bench: placeholder")
