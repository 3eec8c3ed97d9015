@problemName demo
@timeStamps false
@univariate true
@classLabel true a b
