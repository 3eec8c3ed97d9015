@problemName demo
@timeStamps false
@univariate true
@classLabel true a b
@data
1,2,three,4:a
5,6,7,8:b
