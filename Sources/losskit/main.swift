print("losskit")
